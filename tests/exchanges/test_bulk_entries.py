"""`banks_repo.add_entries_bulk` (what exchange syncs write with) keeps every invariant of
`add_entries`: ids in input order, upserts, the index and bank change feeds, and sealed rows."""

from __future__ import annotations

from typing import Any

from amparo.banks import management as bm
from amparo.integrity.verify import check_all
from amparo.store import banks_repo, exchanges_repo
from amparo.store.banks_repo import NewEntry


def test_bulk_add_matches_the_orm_path(service: Any, who: Any) -> None:
    a, b, c, m = "a" * 64, "b" * 64, "c" * 64, "d" * 32
    with service.db.session() as s:
        bm.create_bank(s, who, name="x", category="csam")
        first = bm.add_entries(s, who, bank="x", entries=[NewEntry("pdq", a)], bulk=True)
    with service.db.session() as s:
        ids = bm.add_entries(
            s, who, bank="x", bulk=True,
            entries=[NewEntry("pdq", b), NewEntry("pdq", a, "negative"), NewEntry("md5", m), NewEntry("pdq", c),
                     NewEntry("pdq", b)],
        )  # fmt: skip
    assert ids[1] == first[0] and ids[0] == ids[4] and len(set(ids)) == 4
    with service.db.session() as s:
        bank = banks_repo.get_bank(s, name="x")
        rows = {e.value: e for e in banks_repo.list_entries(s, bank_id=bank.id)}
        assert rows[a].opinion == "negative" and rows[b].pdq_origin == "imported" and rows[m].pdq_origin is None
        assert [r.op for r in banks_repo.index_changes_after(s, signal_type="pdq", seq=0)] == ["add"] * 3
        feed = exchanges_repo.bank_changes_after(s, bank_id=bank.id, seq=0, limit=100)
        assert [(r.value, r.opinion) for r in feed][-4:] == [
            (b, "positive"),
            (a, "negative"),
            (m, "positive"),
            (c, "positive"),
        ]
        assert all(t.ok for t in check_all(s, service.db.sealer)), [
            t.to_dict() for t in check_all(s, service.db.sealer) if not t.ok
        ]
    service.matcher.refresh()
    from amparo.domain.signals import Signal

    assert service.matcher.lookup([Signal("pdq", c, 100)]).matches
