"""Writers to one SQLite file take turns in a queue of their own instead of in SQLite's busy handler.

SQLite lets one writer in at a time. A writer that finds the file locked sleeps in SQLite's busy
handler, in steps that grow to 25, 50 and then 100 ms, and retries; it is not woken when the lock is
given back. Under concurrent checks (several request threads and worker processes, each writing
its event row) most of a slow request's time was spent asleep there while the lock was free: the
p99 of `/v1/check` was 230-850 ms at 110-150 requests/s with two workers.

So a connection's first write statement of a transaction first takes this host's turn for the file:
a lock shared by the process's threads, then an flock on `<database>.turns` for the processes.
The turn is given back once the transaction has committed or rolled back (or when the connection goes
back to the pool holding it). A writer waiting for its turn looks again every 0.2-1 ms, not every 25-100,
and gives up waiting after WAIT_S, as SQLite's own busy timeout would: it then writes without a
turn and SQLite's handler decides, as before. Readers never take a turn (WAL: they are not blocked).
A write that may be skipped or may fail open (`waiting_at_most(s)`) raises TurnBusy after s instead.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

try:
    import fcntl
except ImportError:  # not POSIX: no turns, SQLite's busy handler alone (install returns None)
    fcntl = None  # type: ignore[assignment]

WAIT_S = 30.0  # as long as the connections' busy_timeout
_local = threading.local()


class TurnBusy(Exception):
    """Raised by a write made under `waiting_at_most()` when the turn did not come in time."""


@contextmanager
def waiting_at_most(seconds: float) -> Iterator[None]:
    """Writes in this block, in this thread, wait at most `seconds` for the turn, then raise
    TurnBusy. For writes that may be skipped or that fail open: an API key's last-used time on a
    lookup (0 s), a rate-limit reservation."""
    before = getattr(_local, "wait_s", None)
    _local.wait_s = seconds
    try:
        yield
    finally:
        _local.wait_s = before


_HELD = "amparo_write_turn"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")  # a statement's first six letters


class WriteTurns:
    """One writer at a time per database file, across this host's threads and processes."""

    def __init__(self, database: Path) -> None:
        self._threads = threading.Lock()
        self._fd = os.open(f"{database}.turns", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)

    def take(self, wait_s: float = WAIT_S) -> bool:
        """Wait for the turn; False when `wait_s` passed first (the caller then writes without it)."""
        deadline = time.monotonic() + wait_s
        if not (self._threads.acquire(timeout=wait_s) if wait_s > 0 else self._threads.acquire(blocking=False)):
            return False
        pause = 0.0002
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._threads.release()
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.001)

    def give_back(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def close(self) -> None:
        os.close(self._fd)


def install(engine: Engine, database: Path) -> WriteTurns | None:
    """Make the engine's connections take turns for their writes (module docstring). None where the
    turn file cannot be made (a read-only directory): SQLite's busy handler alone decides then."""
    if fcntl is None:
        return None
    try:
        turns = WriteTurns(database)
    except OSError:
        return None

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _HELD not in conn.info and statement.lstrip()[:6].upper() in _WRITES:
            wait_s = getattr(_local, "wait_s", None)
            if wait_s is None:
                conn.info[_HELD] = turns.take()
            elif turns.take(wait_s=wait_s):
                conn.info[_HELD] = True
            else:
                raise TurnBusy(f"another writer held the database for over {wait_s:g} s")

    def _give_back(info: dict[str, Any]) -> None:
        if info.pop(_HELD, False):
            turns.give_back()

    # Given back once the commit or rollback is done, not before (SQLAlchemy's commit and rollback
    # events come before): the dialect's own do_commit/do_rollback of this engine, wrapped.
    dialect = engine.dialect
    for name in ("do_commit", "do_rollback"):
        done = getattr(dialect, name)

        def finished(dbapi_conn: Any, _done: Any = done) -> None:
            try:
                _done(dbapi_conn)
            finally:
                try:
                    info = dbapi_conn.info
                except (AttributeError, NotImplementedError):  # the engine's first connect: no record
                    info = {}
                _give_back(info)

        setattr(dialect, name, finished)

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            _give_back(record.info)

    return turns
