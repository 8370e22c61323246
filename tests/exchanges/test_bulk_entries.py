"""What an exchange sync writes with (`banks.management.bulk_add`, the bulk import path) keeps the
invariants partners and replicas rely on: upserts, the index and bank change feeds (an opinion
change included), sealed rows, and lookups."""

from __future__ import annotations

from typing import Any

from amparo.banks import management as bm
from amparo.domain.signals import Signal
from amparo.integrity.verify import check_all
from amparo.store import banks_repo, exchanges_repo
from amparo.store.banks_repo import NewEntry


def test_a_sync_page_upserts_and_feeds_partners_and_the_index(service: Any, who: Any) -> None:
    a, b, c, m = "a" * 64, "b" * 64, "c" * 64, "d" * 32
    with service.db.session() as s:
        bm.create_bank(s, who, name="x", category="csam")
        bm.bulk_add(s, who, bank="x", entries=[NewEntry("pdq", a)])
    with service.db.session() as s:
        r = bm.bulk_add(
            s, who, bank="x",
            entries=[NewEntry("pdq", b), NewEntry("pdq", a, "negative"), NewEntry("md5", m), NewEntry("pdq", c),
                     NewEntry("pdq", b)],
        )  # fmt: skip
    assert (r.inserted, r.updated) == (3, 1)
    with service.db.session() as s:
        bank = banks_repo.get_bank(s, name="x")
        rows = {e.value: e for e in banks_repo.list_entries(s, bank_id=bank.id)}
        assert len(rows) == 4 and rows[a].opinion == "negative" and rows[m].pdq_origin is None
        feed = exchanges_repo.bank_changes_after(s, bank_id=bank.id, seq=0, limit=100)
        last = {r.value: (r.op, r.opinion) for r in feed}  # in seq order: the last change of each wins
        assert last == {a: ("add", "negative"), b: ("add", "positive"), m: ("add", "positive"), c: ("add", "positive")}
        assert all(t.ok for t in check_all(s, service.db.sealer)), [
            t.to_dict() for t in check_all(s, service.db.sealer) if not t.ok
        ]
    service.matcher.refresh()
    assert service.matcher.lookup([Signal("pdq", c, 100)]).matches
    assert service.matcher.lookup([Signal("pdq", b, 100)]).matches


def _cache_sizes(service: Any) -> set[int]:
    with service.db.session() as s:
        return {int(s.connection().exec_driver_sql("PRAGMA cache_size").scalar_one())}


def test_an_import_gives_the_connection_its_page_cache_back_even_when_it_fails(service: Any, who: Any) -> None:
    if service.db.engine.dialect.name != "sqlite":
        return
    before = _cache_sizes(service)

    def entries_then_a_bad_line() -> Any:
        yield from (NewEntry("pdq", f"{i:064x}") for i in range(3000))
        raise ValueError("line 3001: not a hash")

    with service.db.session() as s:
        bm.create_bank(s, who, name="x", category="csam")
        bm.bulk_add(s, who, bank="x", entries=[NewEntry("pdq", "e" * 64)])
    assert _cache_sizes(service) == before
    try:
        with service.db.session() as s:
            bm.bulk_add(s, who, bank="x", entries=entries_then_a_bad_line())
    except ValueError:
        pass
    else:
        raise AssertionError("the bad line must fail the import")
    assert _cache_sizes(service) == before
    with service.db.session() as s:  # and the failed import left nothing behind
        assert len(banks_repo.list_entries(s, bank_id=banks_repo.get_bank(s, name="x").id)) == 1
