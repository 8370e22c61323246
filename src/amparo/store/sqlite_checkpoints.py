"""SQLite write-ahead-log checkpoints off the request path, for a serving process.

By default SQLite checkpoints inside the commit that takes the log past 1,000 pages. A check's
commit writes about nine pages (the event, its indexes, the integrity head), so every ~115th check
paid for copying the log into the database file: 31-45 ms on top of a 12 ms check, which is the
whole p99 of `/v1/check` at a few hundred requests a second. A server instead checkpoints from a
background thread twice a second, and its own connections only checkpoint themselves past
FALLBACK_PAGES, should that thread ever fall behind. CLI processes keep SQLite's default.

A PASSIVE checkpoint never blocks anyone, but under steady writes it never catches the last few
frames either, and the log only starts over from its beginning once everything in it has been
copied: alone, it lets the log grow without end. So once the log holds RESTART_PAGES, the thread
asks for a RESTART, which copies the few frames PASSIVE left and makes the next writer start the log
over. RESTART holds back writers while it waits for readers of older snapshots, so it waits at most
RESTART_WAIT_MS and is otherwise tried again at the next tick.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger("amparo.store")

INTERVAL_S = 0.5
FALLBACK_PAGES = 20_000  # ~80 MB of log: reached only if the background thread stops keeping up
RESTART_PAGES = 1_000  # SQLite's own checkpoint size
RESTART_WAIT_MS = 50
BUSY_TIMEOUT_MS = 30_000  # the engine's (database.py)


class BackgroundCheckpoints:
    def __init__(self, engine: Engine, *, interval_s: float = INTERVAL_S) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.runs = 0
        self.restarts = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

        @event.listens_for(engine, "connect")
        def _later_checkpoints(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_PAGES}")
            cur.close()

        engine.dispose()  # connections opened before this (start-up, migrations) take the setting too

    def start(self) -> BackgroundCheckpoints:
        self._thread = threading.Thread(target=self._run, name="amparo-wal-checkpoints", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def checkpoint(self) -> tuple[int, int, int]:
        """PASSIVE, then RESTART when the log is long: (busy, pages in the log, pages copied) of
        the last one run."""
        conn = self.engine.raw_connection()  # a raw cursor: no transaction, no write turn
        try:
            cur = conn.cursor()
            busy, pages, done = _run_pragma(cur, "PRAGMA wal_checkpoint(PASSIVE)")
            if pages >= RESTART_PAGES:
                cur.execute(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")
                try:
                    busy, pages, done = _run_pragma(cur, "PRAGMA wal_checkpoint(RESTART)")
                    self.restarts += 0 if busy else 1
                finally:
                    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.close()
        finally:
            conn.close()
        self.runs += 1
        return busy, pages, done

    def _run(self) -> None:
        failures = 0
        while not self._stop.wait(self.interval_s):
            try:
                self.checkpoint()
                failures = 0
            except Exception as e:  # keep going: a failed checkpoint is retried at the next tick
                failures += 1
                if failures in (1, 100) or failures % 1000 == 0:
                    log.warning("WAL checkpoint failed (%d in a row): %s", failures, e.__class__.__name__)


def _run_pragma(cur: Any, sql: str) -> tuple[int, int, int]:
    cur.execute(sql)
    row = cur.fetchone()
    return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)


def start_for(engine: Engine) -> BackgroundCheckpoints | None:
    """Background checkpoints for a file-backed SQLite engine; None for anything else."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return BackgroundCheckpoints(engine).start()
