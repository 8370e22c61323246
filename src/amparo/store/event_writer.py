"""Group commit for check events: concurrent checks of one process share a transaction.

A check's event must be durable before its answer. Written alone, each event pays a transaction's
fixed cost: the insert, reading the row back for its seal, writing the seal, and the table head's
read and update, then the commit. Requests that reach this point while another is committing
wait for that commit, then the first of them writes all of their events together: one insert
flush, one seal read and write, one head update, one commit. A caller still returns only after
the transaction holding its event has committed, so the guarantee is unchanged.

Only events without side effects are batched (the pipeline decides: no action of the verdict
writes rows). If a shared transaction fails, each of its events is retried alone, so one bad
event never takes another's record with it; an event that fails alone raises to its caller,
which then answers an error instead of a verdict.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from amparo.domain.items import Item
from amparo.domain.verdicts import Verdict
from amparo.store import events_repo
from amparo.store.database import Database

MAX_BATCH = 64  # events per transaction: bounds the leader's extra latency


@dataclass(eq=False)
class _Job:
    item: Item
    verdict: Verdict
    done: threading.Event = field(default_factory=threading.Event)
    event_id: int | None = None
    error: BaseException | None = None


class EventWriter:
    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH) -> None:
        self.db = db
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Job] = []
        self._writing = False
        self.transactions = 0  # committed transactions, for tests and the bench
        self.events = 0

    def record(self, item: Item, verdict: Verdict) -> int:
        """Write the event and return its id once committed (with others' events, if any wait)."""
        job = _Job(item, verdict)
        with self._lock:
            self._queue.append(job)
            lead = not self._writing
            if lead:
                self._writing = True
        if lead:
            self._drain()
        job.done.wait()
        if job.error is not None:
            raise job.error
        assert job.event_id is not None
        return job.event_id

    def _drain(self) -> None:
        """Write batches until the queue is empty, then hand the role back. Every job taken off the
        queue is finished (id or error) before this returns, whatever happens."""
        while True:
            with self._lock:
                batch = self._queue[: self.max_batch]
                del self._queue[: len(batch)]
                if not batch:
                    self._writing = False
                    return
            try:
                self._write(batch)
            except BaseException as e:  # never leave a waiter hanging
                for job in batch:
                    if not job.done.is_set():
                        job.error = e
                        job.done.set()
                if not isinstance(e, Exception):
                    with self._lock:
                        self._writing = False
                    raise

    def _write(self, batch: list[_Job]) -> None:
        if len(batch) > 1:
            try:
                ids = self._commit(batch)
            except Exception:
                ids = None  # one bad event must not cost the others theirs: retry one by one
            if ids is not None:
                for job, event_id in zip(batch, ids, strict=True):
                    job.event_id = event_id
                    job.done.set()
                return
        for job in batch:
            try:
                job.event_id = self._commit([job])[0]
            except Exception as e:
                job.error = e
            job.done.set()

    def _commit(self, batch: list[_Job]) -> list[int]:
        with self.db.session() as s:
            ids = events_repo.record_events(s, [(job.item, job.verdict) for job in batch])
        self.transactions += 1
        self.events += len(batch)
        return ids
