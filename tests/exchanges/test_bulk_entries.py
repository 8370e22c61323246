"""What an exchange sync writes with (`banks.management.bulk_add`, the bulk import path) keeps the
invariants partners and replicas rely on: upserts, the index and bank change feeds (an opinion
change included), sealed rows, and lookups."""

from __future__ import annotations

from typing import Any

import pytest

from amparo.banks import management as bm
from amparo.banks.management import Acting
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


def _entries_then_a_bad_line() -> Any:
    yield from (NewEntry("pdq", f"{i:064x}") for i in range(3000))  # past the first chunk
    raise ValueError("line 3001: not a hash")


def _import_fails(service: Any, who: Any) -> None:
    with pytest.raises(ValueError, match="line 3001"), service.db.session() as s:
        bm.bulk_add(s, who, bank="x", entries=_entries_then_a_bad_line())


def test_a_failed_import_leaves_nothing_behind(service: Any, who: Any) -> None:
    with service.db.session() as s:
        bm.create_bank(s, who, name="x", category="csam")
        bm.bulk_add(s, who, bank="x", entries=[NewEntry("pdq", "e" * 64)])
    _import_fails(service, who)
    with service.db.session() as s:
        assert len(banks_repo.list_entries(s, bank_id=banks_repo.get_bank(s, name="x").id)) == 1


def test_an_sqlite_import_gives_the_connection_its_page_cache_back_even_when_it_fails(
    sqlite_service: Any,
) -> None:
    who = Acting(sqlite_service.audit, "test:admin", "admin")

    def cache_size() -> int:
        with sqlite_service.db.session() as s:
            return int(s.connection().exec_driver_sql("PRAGMA cache_size").scalar_one())

    before = cache_size()
    with sqlite_service.db.session() as s:
        bm.create_bank(s, who, name="x", category="csam")
        bm.bulk_add(s, who, bank="x", entries=[NewEntry("pdq", "e" * 64)])
    assert cache_size() == before
    _import_fails(sqlite_service, who)
    assert cache_size() == before
