"""Bulk import (store/bulk_entries_repo.py): COPY/executemany in chunks, rows sealed, duplicates
merged, one feed marker the index applies as a batch; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from amparo.audit import names
from amparo.banks import management as bm
from amparo.banks.management import Acting, import_text
from amparo.cli.verify import run_verify
from amparo.domain.signals import Signal
from amparo.errors import BadInput
from amparo.matching.matcher import Matcher
from amparo.store import audit_repo, banks_repo, bulk_entries_repo
from amparo.store.banks_repo import NewEntry
from amparo.store.tables import BankEntryRow, IndexChangeRow

rng = np.random.default_rng(13)


def rand_pdqs(n: int) -> list[str]:
    return [h.tobytes().hex() for h in rng.integers(0, 256, (n, 32), dtype=np.uint8)]


def who(svc: Any) -> Acting:
    return Acting(svc.audit, "test", "admin")


def make_bank(svc: Any, name: str = "B") -> int:
    with svc.db.session() as s:
        return bm.create_bank(s, who(svc), name=name, category="csam").id


def pdq(h: str) -> Signal:
    return Signal(type="pdq", value=h, quality=100)


def feed(svc: Any) -> list[tuple[str, int, str | None]]:
    with svc.db.session() as s:
        return [(r.op, r.entry_id, r.value) for r in s.scalars(select(IndexChangeRow).order_by(IndexChangeRow.seq))]


def test_import_is_sealed_searchable_and_one_feed_row(service: Any, tmp_path: Path) -> None:
    svc = service
    make_bank(svc)
    hashes = rand_pdqs(3000)
    text = "".join(f"pdq {h}\n" for h in hashes) + "\n# a comment\n" + f"md5 {'c' * 32}\n"
    out = import_text(svc.db, svc.pipeline, who(svc), bank="B", text=text, fmt="pytx")
    assert out["imported"] == 3001 and out["inserted"] == 3001 and out["unique"] == 3001
    assert out["skipped_blank"] == 2
    # one marker for the whole import, not 3,000 per-entry rows
    changes = feed(svc)
    assert len(changes) == 1 and changes[0][0] == "bulk"
    report = run_verify(svc)
    assert report["ok"], report["problems"] or report["first_broken"]
    # one audit record with the counts
    with svc.db.session() as s:
        recs = audit_repo.list_records(s, limit=10, action=names.BANK_IMPORT)
    assert len(recs) == 1 and recs[0].details["inserted"] == 3001 and recs[0].details["signal_types"]["pdq"] == 3000
    # the serving index and an independent follower (another replica's own index) both find them
    svc.matcher.refresh()
    assert [m.bank for m in svc.matcher.lookup([pdq(hashes[1234])]).matches] == ["B"]
    other = Matcher(svc.db, tmp_path / "replica-index")
    try:
        assert len(other.pdq) == 3000
        assert other.lookup([pdq(hashes[0])]).matches and other.lookup([pdq(hashes[-1])]).matches
        # a removal after the import follows the marker in the feed
        with svc.db.session() as s:
            entry = banks_repo.lookup_exact(s, signal_type="pdq", value=hashes[5])[0]
            bm.remove_entries(s, who(svc), bank="B", entry_ids=[entry.entry_id])
        other.refresh()
        assert not other.lookup([pdq(hashes[5])]).matches and len(other.pdq) == 2999
    finally:
        other.close()


def test_duplicates_in_file_across_chunks_and_in_bank(service: Any) -> None:
    svc = service
    bank_id = make_bank(svc)
    a, b, c = rand_pdqs(3)
    with svc.db.session() as s:
        banks_repo.add_entries(s, bank_id=bank_id, entries=[NewEntry("pdq", a), NewEntry("pdq", b)])
    stream = [NewEntry("pdq", h) for h in rand_pdqs(250)]
    stream += [
        NewEntry("pdq", a),  # in the bank, nothing changes
        NewEntry("pdq", b, "disputed", note="review"),  # in the bank, changes
        NewEntry("pdq", c),
        NewEntry("pdq", c, metadata={"k": 1}),  # twice in one chunk: merged
    ]
    stream += [NewEntry("pdq", h) for h in rand_pdqs(100)] + [NewEntry("pdq", c, "negative")]  # a later chunk
    with svc.db.session() as s:
        r = bulk_entries_repo.bulk_add_entries(s, bank_id=bank_id, entries=stream, chunk_size=100)
    assert (r.received, r.inserted, r.unchanged, r.updated, r.preexisting) == (355, 351, 1, 2, 2)
    with svc.db.session() as s:
        assert banks_repo.count_entries(s, bank_id=bank_id) == 353
        rows = {e.value: e for e in s.scalars(select(BankEntryRow).where(BankEntryRow.value.in_([a, b, c])))}
    assert rows[a].opinion == "positive" and rows[b].opinion == "disputed" and rows[b].note == "review"
    assert rows[c].opinion == "negative" and rows[c].entry_metadata == {"k": 1}
    report = run_verify(svc)
    assert report["ok"], report["problems"] or report["first_broken"]
    svc.matcher.refresh()
    assert len(svc.matcher.pdq) == 353


def test_bad_line_late_in_the_file_writes_nothing(service: Any) -> None:
    svc = service
    make_bank(svc)
    good = "".join(f"pdq {h}\n" for h in rand_pdqs(60_000))
    with pytest.raises(BadInput, match="line 60001"):
        import_text(svc.db, svc.pipeline, who(svc), bank="B", text=good + "pdq nothex\n", fmt="pytx")
    with svc.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BankEntryRow)) == 0
        assert not audit_repo.list_records(s, limit=5, action=names.BANK_IMPORT)
    assert feed(svc) == []
    report = run_verify(svc)
    assert report["ok"], report["problems"] or report["first_broken"]
    with pytest.raises(BadInput, match="no entries"):
        import_text(svc.db, svc.pipeline, who(svc), bank="B", text="# nothing\n\n", fmt="pytx")


def test_entries_added_one_by_one_after_an_import_get_fresh_ids(service: Any) -> None:
    svc = service
    bank_id = make_bank(svc)
    import_text(svc.db, svc.pipeline, who(svc), bank="B", text="".join(f"pdq {h}\n" for h in rand_pdqs(50)), fmt="pytx")
    with svc.db.session() as s:
        new = banks_repo.add_entries(s, bank_id=bank_id, entries=[NewEntry("pdq", rand_pdqs(1)[0])])[0]
        top = s.scalar(select(func.max(BankEntryRow.id)))
    assert new == top and new > 50
    svc.matcher.refresh()
    assert len(svc.matcher.pdq) == 51
    report = run_verify(svc)
    assert report["ok"], report["problems"] or report["first_broken"]


def test_an_imported_bank_reaches_the_partner_feed(service: Any) -> None:
    """A published bank filled by a bulk import: every new entry is in the bank change feed that
    Amparo-to-Amparo partners pull (banks/exchanges/publishing.py), once, with its value."""
    from amparo.store import exchanges_repo

    svc = service
    bank_id = make_bank(svc)
    hashes = rand_pdqs(1500)
    import_text(svc.db, svc.pipeline, who(svc), bank="B", text="".join(f"pdq {h}\n" for h in hashes), fmt="pytx")
    with svc.db.session() as s:
        rows = exchanges_repo.bank_changes_after(s, bank_id=bank_id, seq=0, limit=10_000)
    assert [r.op for r in rows] == ["add"] * 1500
    assert sorted(r.value for r in rows) == sorted(hashes)
