"""A serving process checkpoints SQLite's write-ahead log from a thread (store/sqlite_checkpoints.py):
its commits no longer pay for checkpoints, and the log stays bounded under steady writes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text

from amparo.store import sqlite_checkpoints
from amparo.store.database import Database


def _wal_pages(path: Path) -> int:
    wal = Path(str(path) + "-wal")
    return wal.stat().st_size // 4096 if wal.exists() else 0


def _write(db: Database, n: int) -> None:
    for i in range(n):  # one transaction a row, as checks commit
        with db.engine.begin() as c:
            c.execute(text("INSERT INTO scratch (body) VALUES (:b)"), {"b": bytes([i % 251]) * 3000})


def test_the_log_stays_bounded_under_steady_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_checkpoints, "RESTART_PAGES", 60)
    path = tmp_path / "a.db"
    db = Database(f"sqlite:///{path}")
    with db.engine.begin() as c:
        c.execute(text("CREATE TABLE scratch (id INTEGER PRIMARY KEY, body BLOB)"))
    bg = sqlite_checkpoints.BackgroundCheckpoints(db.engine, interval_s=0.02)
    with db.engine.connect() as c:
        # The serving connections leave checkpoints to the thread (their own only far later).
        assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == sqlite_checkpoints.FALLBACK_PAGES
    bg.start()
    try:
        peak = 0
        for _ in range(30):
            _write(db, 40)
            peak = max(peak, _wal_pages(path))
            time.sleep(0.005)
        deadline = time.time() + 5
        while bg.restarts == 0 and time.time() < deadline:
            time.sleep(0.02)
    finally:
        bg.stop()
    assert bg.runs > 0 and bg.restarts > 0
    # 1,200 rows of ~3 KB would leave well over 1,000 pages of log with no checkpoint at all.
    assert peak < 600, peak
    with db.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM scratch")).scalar() == 1200
        assert c.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    db.dispose()


def test_a_server_database_starts_and_stops_its_checkpoints(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'b.db'}")
    db.checkpoint_in_background()
    bg = db._checkpoints
    assert bg is not None and bg._thread is not None and bg._thread.is_alive()
    db.checkpoint_in_background()  # once per database
    assert db._checkpoints is bg
    db.dispose()
    assert not bg._thread.is_alive() and db._checkpoints is None


def test_only_file_backed_sqlite_gets_checkpoints(pg_url: str) -> None:
    db = Database(pg_url)
    db.checkpoint_in_background()
    assert db._checkpoints is None
    db.dispose()
    mem = Database("sqlite:///:memory:")
    assert sqlite_checkpoints.start_for(mem.engine) is None
    mem.dispose()
