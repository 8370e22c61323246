"""The hash-check request path (issue 13, item 2): what a lookup no longer does per request, with the
same answers. Statements are counted on the real engine (SQLAlchemy's own event), not mocked."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from sqlalchemy import event, select

from amparo.domain.items import Context, Item
from amparo.domain.signals import Signal
from amparo.signals.hashes.pdq import pdq_of_bytes
from amparo.store import banks_repo
from amparo.store.tables_limits import RateLimitRow


@contextmanager
def statements(svc) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(svc.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(svc.db.engine, "before_cursor_execute", record)


def _bank(svc, values: list[tuple[str, str]]) -> list[int]:  # type: ignore[no-untyped-def]
    with svc.db.session() as s:
        b = banks_repo.create_bank(s, name="known", category="csam")
        ids = banks_repo.add_entries(
            s, bank_id=b.id, entries=[banks_repo.NewEntry(t, v, "positive", None) for t, v in values]
        )
    svc.matcher.refresh()
    return ids


def test_exact_hashes_answer_from_memory_and_the_database_decides_hits(service) -> None:  # type: ignore[no-untyped-def]
    banked = hashlib.md5(b"banked").hexdigest()
    sha = hashlib.sha256(b"banked").hexdigest()
    ids = _bank(service, [("md5", banked), ("sha256", sha)])
    service.matcher.max_threshold()  # the threshold cache is warm, as on a serving process
    miss = [Signal("md5", hashlib.md5(b"other").hexdigest()), Signal("sha256", hashlib.sha256(b"x").hexdigest())]
    with statements(service) as seen:
        assert service.matcher.lookup(miss).matches == ()
    assert seen == []  # not banked: no database round trip
    with statements(service) as seen:
        found = service.matcher.lookup([Signal("md5", banked), Signal("sha256", sha)])
    assert sorted(m.signal_type for m in found.matches) == ["md5", "sha256"] and seen
    # Removed in the database: the stale filter still says "maybe", the database says no.
    with service.db.session() as s:
        banks_repo.remove_entries(s, entry_ids=[ids[0]])
    assert [m.signal_type for m in service.matcher.lookup([Signal("md5", banked)]).matches] == []
    # Added by another process: found after the next refresh.
    late = hashlib.md5(b"late").hexdigest()
    with service.db.session() as s:
        bank = banks_repo.get_bank(s, name="known")
        banks_repo.add_entries(s, bank_id=bank.id, entries=[banks_repo.NewEntry("md5", late, "positive", None)])
    service.matcher.refresh()
    assert [m.bank for m in service.matcher.lookup([Signal("md5", late)]).matches] == ["known"]


def test_a_threshold_change_here_applies_at_once(service) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    value = bytes(rng.integers(0, 256, 32, dtype=np.uint8))
    _bank(service, [("pdq", value.hex())])
    flipped = bytearray(value)
    for i in range(5):  # 40 bits away: beyond the default threshold of 31
        flipped[i] ^= 0xFF
    probe = [Signal("pdq", bytes(flipped).hex(), 100)]
    assert service.matcher.lookup(probe).matches == ()
    with service.db.session() as s:
        banks_repo.update_bank(s, name="known", pdq_threshold=45)
    assert [m.distance for m in service.matcher.lookup(probe).matches] == [40]


def test_without_detectors_an_image_is_decoded_once_at_full_size(sqlite_service, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    data = (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()  # larger than 1024 px
    a = sqlite_service.pipeline.analyse(Item.from_image(data, Context()))
    assert (a.decoded.width, a.decoded.height) == Image.open(io.BytesIO(data)).size
    pdq = next(s for s in a.signals if s.type == "pdq")
    assert pdq.value == pdq_of_bytes(data)[0]  # still the hash of record


def test_rate_limits_are_reserved_in_blocks_far_below_the_limit(service, live_api) -> None:  # type: ignore[no-untyped-def]
    url, keys = live_api  # the default limits: 3000 a minute per key, 6000 per address
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys['reviewer']}"}, timeout=60) as c:
        for _ in range(10):
            assert c.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": "0" * 64}).status_code == 200
    prefix = keys["reviewer"].split("_")[1]
    with service.db.session() as s:
        counted = s.scalar(select(RateLimitRow.count).where(RateLimitRow.bucket == f"key:{prefix}"))
    # One reservation of a block of 64 served the ten requests (in a new window, a new block of 64).
    assert counted == 64, counted
