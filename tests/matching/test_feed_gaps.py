"""The change feed on PostgreSQL: a row whose transaction commits after a later row's is still
applied (matching/matcher.py, Matcher.refresh), and a rolled-back row does not hold the index back."""

from __future__ import annotations

import numpy as np
import pytest

from amparo.domain.signals import Signal
from amparo.matching import matcher as matcher_module
from amparo.store import banks_repo
from amparo.store.banks_repo import NewEntry

pytestmark = pytest.mark.postgres
rng = np.random.default_rng(11)


@pytest.fixture
def database_url(pg_url: str) -> str:  # PostgreSQL only: SQLite commits in seq order
    return pg_url


def _hash() -> str:
    return rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def _found(service, h: str) -> bool:  # type: ignore[no-untyped-def]
    return len(service.matcher.lookup([Signal("pdq", h, 100)]).matches) == 1


def _bank(service) -> int:  # type: ignore[no-untyped-def]
    with service.db.session() as s:
        return banks_repo.create_bank(s, name="B", category="csam").id


def test_a_row_committed_after_a_later_one_is_applied(service) -> None:  # type: ignore[no-untyped-def]
    bank = _bank(service)
    early, later = _hash(), _hash()
    slow = service.db.engine.connect()
    tx = slow.begin()
    from sqlalchemy.orm import Session

    s1 = Session(bind=slow)
    banks_repo.add_entries(s1, bank_id=bank, entries=[NewEntry("pdq", early)])
    s1.flush()  # its feed row has its seq now, invisible until commit
    with service.db.session() as s2:
        banks_repo.add_entries(s2, bank_id=bank, entries=[NewEntry("pdq", later)])
    service.matcher.refresh()
    assert _found(service, later) and not _found(service, early)
    mark = service.matcher.pdq.applied_seq
    tx.commit()
    s1.close()
    slow.close()
    service.matcher.refresh()
    assert _found(service, early) and _found(service, later)
    assert service.matcher.pdq.applied_seq > mark  # the watermark moves past the filled gap


def test_a_rolled_back_row_stops_holding_the_watermark(service, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bank = _bank(service)
    slow = service.db.engine.connect()
    tx = slow.begin()
    from sqlalchemy.orm import Session

    s1 = Session(bind=slow)
    banks_repo.add_entries(s1, bank_id=bank, entries=[NewEntry("pdq", _hash())])
    s1.flush()
    with service.db.session() as s2:
        banks_repo.add_entries(s2, bank_id=bank, entries=[NewEntry("pdq", _hash())])
    tx.rollback()
    s1.close()
    slow.close()
    service.matcher.refresh()
    with service.db.session() as s:
        latest = banks_repo.latest_index_seq(s, signal_type="pdq")
    assert service.matcher.pdq.applied_seq < latest  # waiting for the missing row
    monkeypatch.setattr(matcher_module, "GAP_TTL_SECONDS", 0.0)
    service.matcher.refresh()
    assert service.matcher.pdq.applied_seq == latest
