"""Banks, entries, imports/exports and the matcher, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest

from amparo.banks.management import Acting, export_bank, import_text
from amparo.domain.signals import Signal
from amparo.errors import BadInput, Conflict, NotFound
from amparo.store import banks_repo
from amparo.store.banks_repo import NewEntry


def who(service):  # type: ignore[no-untyped-def]
    return Acting(service.audit, "test", "admin")


rng = np.random.default_rng(7)


def rand_pdq() -> str:
    return rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def flip(hex_hash: str, n: int) -> str:
    v = bytearray(bytes.fromhex(hex_hash))
    for bit in rng.choice(256, n, replace=False):
        v[bit // 8] ^= 1 << (bit % 8)
    return bytes(v).hex()


def make_bank(service, name="B", category="csam", **kw):  # type: ignore[no-untyped-def]
    with service.db.session() as s:
        return banks_repo.create_bank(s, name=name, category=category, **kw).id


def add(service, bank_id, *entries: NewEntry) -> list[int]:  # type: ignore[no-untyped-def]
    with service.db.session() as s:
        ids = banks_repo.add_entries(s, bank_id=bank_id, entries=list(entries))
    service.matcher.refresh()
    return ids


def pdq(value: str) -> Signal:
    return Signal("pdq", value, 100)


def test_bank_crud_and_validation(service) -> None:
    make_bank(service, "KNOWN_CSAM", "csam", source="ncmec")
    with service.db.session() as s, pytest.raises(Conflict):
        banks_repo.create_bank(s, name="KNOWN_CSAM", category="csam")
    with service.db.session() as s:
        with pytest.raises(BadInput):
            banks_repo.create_bank(s, name="bad name!", category="csam")
        with pytest.raises(BadInput):
            banks_repo.create_bank(s, name="X", category="weapons")
        with pytest.raises(BadInput):
            banks_repo.create_bank(s, name="X", category="csam", pdq_threshold=999)
    with service.db.session() as s:
        b = banks_repo.update_bank(s, name="KNOWN_CSAM", enabled=False, pdq_threshold=20)
        assert (b.enabled, b.pdq_threshold) == (False, 20)
        assert [x.name for x in banks_repo.list_banks(s)] == ["KNOWN_CSAM"]
    with service.db.session() as s:
        banks_repo.delete_bank(s, name="KNOWN_CSAM")
    with service.db.session() as s, pytest.raises(NotFound):
        banks_repo.get_bank(s, name="KNOWN_CSAM")


def test_exact_hamming_search_within_threshold_only(service) -> None:
    bank = make_bank(service, "B", pdq_threshold=31)
    base = rand_pdq()
    near = {d: flip(base, d) for d in (0, 5, 31, 32, 40)}
    ids = add(service, bank, *[NewEntry("pdq", h) for h in near.values()])
    got = {m.entry_id: m.distance for m in service.matcher.lookup([pdq(base)]).matches}
    expected = {ids[i]: d for i, d in enumerate(near) if d <= 31}
    assert got == expected


def test_per_bank_threshold_and_disabled_banks(service) -> None:
    strict = make_bank(service, "STRICT", pdq_threshold=10)
    loose = make_bank(service, "LOOSE", "ncii", pdq_threshold=31)
    base = rand_pdq()
    add(service, strict, NewEntry("pdq", flip(base, 20)))
    add(service, loose, NewEntry("pdq", flip(base, 20)))
    banks = {m.bank for m in service.matcher.lookup([pdq(base)]).matches}
    assert banks == {"LOOSE"}
    with service.db.session() as s:
        banks_repo.update_bank(s, name="LOOSE", enabled=False)
    assert service.matcher.lookup([pdq(base)]).matches == ()


def test_quality_floor_skips_low_quality_queries(service) -> None:
    bank = make_bank(service)
    h = rand_pdq()
    add(service, bank, NewEntry("pdq", h))
    assert service.matcher.lookup([Signal("pdq", h, 49)]).matches == ()
    assert len(service.matcher.lookup([Signal("pdq", h, 50)]).matches) == 1


def test_safe_bank_suppresses_false_positive(service) -> None:
    bad = make_bank(service, "CSAM")
    safe = make_bank(service, "SAFE", "other", negative=True)
    h = rand_pdq()
    add(service, bad, NewEntry("pdq", flip(h, 6)))
    add(service, safe, NewEntry("pdq", flip(h, 2)))
    res = service.matcher.lookup([pdq(h)])
    assert res.matches == ()
    assert [m.bank for m in res.suppressed] == ["CSAM"]
    assert [m.bank for m in res.negatives] == ["SAFE"]


def test_negative_opinion_entry_suppresses(service) -> None:
    bank = make_bank(service)
    h = rand_pdq()
    add(service, bank, NewEntry("pdq", flip(h, 8)), NewEntry("pdq", h, opinion="negative"))
    res = service.matcher.lookup([pdq(h)])
    assert res.matches == () and len(res.suppressed) == 1


def test_exact_lookup_md5(service) -> None:
    bank = make_bank(service, "NCII", "ncii")
    add(service, bank, NewEntry("md5", "a" * 32))
    assert [m.bank for m in service.matcher.lookup([Signal("md5", "a" * 32)]).matches] == ["NCII"]
    assert service.matcher.lookup([Signal("md5", "b" * 32)]).matches == ()


def test_removal_and_reupdate_are_incremental(service) -> None:
    bank = make_bank(service)
    h = rand_pdq()
    (eid,) = add(service, bank, NewEntry("pdq", h))
    seq_before = service.matcher.pdq.applied_seq
    with service.db.session() as s:
        banks_repo.remove_entries(s, entry_ids=[eid])
    assert service.matcher.refresh() == 1
    assert service.matcher.pdq.applied_seq > seq_before
    assert service.matcher.lookup([pdq(h)]).matches == ()


def test_index_survives_restart_and_catches_up(settings) -> None:
    from amparo.service import Service

    h1, h2 = rand_pdq(), rand_pdq()
    with Service(settings) as svc:
        b = make_bank(svc)
        add(svc, b, NewEntry("pdq", h1))
    with Service(settings) as svc:
        # written while no process was running: the new process applies the feed from its seq
        with svc.db.session() as s:
            banks_repo.add_entries(s, bank_id=b, entries=[NewEntry("pdq", h2)])
        svc.matcher.refresh()
        assert len(svc.matcher.lookup([pdq(h1)]).matches) == 1
        assert len(svc.matcher.lookup([pdq(h2)]).matches) == 1


def test_csv_and_pytx_round_trip(service) -> None:
    make_bank(service, "SRC")
    hashes = [rand_pdq() for _ in range(5)]
    csv_text = "signal_type,value,opinion,note\n" + "".join(f"pdq,{h},positive,n{i}\n" for i, h in enumerate(hashes))
    csv_text += "md5," + "c" * 32 + ",disputed,\n"
    out = import_text(service.db, service.pipeline, who(service), bank="SRC", text=csv_text, fmt="csv")
    assert out["imported"] == 6
    exported = "".join(export_bank(service.db, bank="SRC", fmt="pytx"))
    make_bank(service, "DST")
    assert (
        import_text(service.db, service.pipeline, who(service), bank="DST", text=exported, fmt="pytx")["imported"] == 6
    )
    csv_out = "".join(export_bank(service.db, bank="SRC", fmt="csv"))
    assert csv_out.startswith("signal_type,value,opinion") and csv_out.count("\n") == 7
    assert "disputed" in csv_out


def test_bad_row_rejects_whole_import(service) -> None:
    make_bank(service, "B")
    text = f"pdq {rand_pdq()}\npdq nothex\n"
    with pytest.raises(BadInput, match="line 2"):
        import_text(service.db, service.pipeline, who(service), bank="B", text=text, fmt="pytx")
    with service.db.session() as s:
        assert banks_repo.count_entries(s, bank_id=banks_repo.get_bank(s, name="B").id) == 0
