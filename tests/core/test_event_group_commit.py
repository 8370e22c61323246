"""Group commit of check events (store/event_writer.py): concurrent checks share transactions, and
every answered check's event is committed, sealed and counted in its table head; one event that
cannot be written fails alone."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from sqlalchemy import func, select

from amparo.domain.items import Context, Item
from amparo.domain.verdicts import Verdict
from amparo.integrity.verify import check_all
from amparo.store.event_writer import EventWriter
from amparo.store.tables_events import EventRow


def _image(shared_data) -> bytes:  # type: ignore[no-untyped-def]
    return (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()


def _verify(service) -> None:  # type: ignore[no-untyped-def]
    with service.db.session() as s:
        broken = [c for c in check_all(s, service.db.sealer) if not c.ok]
    assert not broken, broken


def test_concurrent_checks_share_commits_and_every_event_is_sealed(service, shared_data) -> None:  # type: ignore[no-untyped-def]
    data = _image(shared_data)
    writer: EventWriter = service.pipeline.events
    # Hold the writer's turn so that checks pile up behind a commit in progress, as under load.
    gate = threading.Event()
    real_commit = writer._commit
    first = threading.Event()

    def slow_commit(batch):  # type: ignore[no-untyped-def]
        if not first.is_set():
            first.set()
            gate.wait(10)
        return real_commit(batch)

    writer._commit = slow_commit  # type: ignore[method-assign]
    verdicts: list[Verdict] = []
    errors: list[BaseException] = []

    def check(i: int) -> None:
        try:
            item = Item.from_image(data, Context(account=f"acct{i}", surface="upload"))
            verdicts.append(service.pipeline.check(item))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=check, args=(i,)) for i in range(12)]
    threads[0].start()
    assert first.wait(10)
    for t in threads[1:]:
        t.start()
    deadline = threading.Event()
    while len(writer._queue) < 11 and not deadline.wait(0.01):
        pass
    gate.set()
    for t in threads:
        t.join(30)
    assert not errors and len(verdicts) == 12
    ids = sorted(v.event_id for v in verdicts if v.event_id is not None)
    assert len(set(ids)) == 12
    assert writer.transactions < 12, "the waiting checks must share a commit"
    with service.db.session() as s:
        rows = {r.id: r for r in s.scalars(select(EventRow).where(EventRow.id.in_(ids)))}
    assert sorted(rows) == ids
    for v in verdicts:
        row = rows[v.event_id]
        assert row.item_id == v.item_id and row.decision == v.decision.value
    _verify(service)


def test_an_event_that_cannot_be_written_fails_alone(service, shared_data) -> None:  # type: ignore[no-untyped-def]
    data = _image(shared_data)
    good = [Item.from_image(data, Context(surface="upload")) for _ in range(3)]
    verdicts = [service.pipeline.check(i, record=False) for i in good]
    bad_item = Item.from_image(data, Context(surface="upload"))
    bad = dataclasses.replace(verdicts[0], item_id=bad_item.id, extra={"not json": object()})
    writer: EventWriter = service.pipeline.events
    with service.db.session() as s:
        before = s.scalar(select(func.count()).select_from(EventRow))
    # Four waiting jobs written as one batch: the bad one's JSON fails the shared flush.
    from amparo.store.event_writer import _Job

    jobs = [_Job(i, v) for i, v in zip(good, verdicts, strict=True)] + [_Job(bad_item, bad)]
    writer._write(jobs)
    assert all(j.done.is_set() for j in jobs)
    assert [j.error is None for j in jobs] == [True, True, True, False]
    assert all(j.event_id for j in jobs[:3]) and jobs[3].event_id is None
    with service.db.session() as s:
        after = s.scalar(select(func.count()).select_from(EventRow))
    assert after == before + 3
    _verify(service)
    # Through the public path the caller sees the error, never a verdict without its event.
    with pytest.raises(Exception, match="not JSON serializable"):
        writer.record(bad_item, bad)
    assert not writer._writing and not writer._queue
