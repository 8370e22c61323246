"""Engine and sessions for SQLite (WAL, the embedded default) and PostgreSQL, plus migrations."""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from amparo.integrity.mac import RowSealer

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Every engine this process made that is still in memory (even as uncollected garbage): dispose_all.
_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.M)


def make_engine(url: str) -> Engine:
    engine = _make_engine(url)
    _engines.add(engine)
    return engine


def dispose_all() -> None:
    """Close the pooled connections of every engine still in memory: for a process that exits
    without collecting its garbage (cli/main.py), as the collection would have (SQLite then
    checkpoints its write-ahead log into the database file)."""
    for engine in list(_engines):
        engine.dispose()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path: Path | None = None  # the database file, when there is one
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Owner-only from the first byte (SQLite gives its -wal and -shm files the same mode).
            # Only when it is not there yet: closing any descriptor of the file drops every POSIX
            # lock this process holds on it, including the WAL-mode locks of its open connections;
            # another process then takes itself for the last one and checkpoints the WAL away under
            # them ("disk I/O error"), e.g. when a second engine is made in a process that has one.
            if not path.exists():
                os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        # hide_parameters: a failed statement's error never carries the request's values into the log
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        if path is not None:
            from amparo.store import sqlite_turns

            sqlite_turns.install(engine, path)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL is durable across app crashes
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; safe for concurrent starters on PG)."""
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7326151)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def head_revisions() -> set[str]:
    """The newest revision ids of the migration scripts, read from their `revision =` lines without
    importing Alembic (a light CLI verb checks the schema with this, in a millisecond)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        fields = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in fields:
            continue
        revisions.add(fields["revision"].strip("'\""))
        down = fields.get("down_revision", "None")
        parents.update(x.strip(" '\"") for x in down.strip("()[]").split(",") if x.strip(" '\"") not in ("", "None"))
    return revisions - parents


def schema_is_current(engine: Engine) -> bool:
    """True when the database's Alembic version is exactly the scripts' head(s)."""
    try:
        with engine.connect() as conn:
            stamped = {str(r[0]) for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except Exception:  # no version table yet: a fresh database
        return False
    return bool(stamped) and stamped == head_revisions()


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.sealer: RowSealer | None = None
        self._checkpoints: Any = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on error (nothing half-written)."""
        s = self._sessions()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def migrate(self, *, only_if_behind: bool = False) -> None:
        """Upgrade to the newest schema. `only_if_behind`: skip Alembic entirely (its import alone
        costs a light CLI verb most of its start-up) when the database is already at the head."""
        if not (only_if_behind and schema_is_current(self.engine)):
            migrate(self.engine)
        if self.sealer is not None:
            from amparo.store import integrity_repo

            integrity_repo.ensure_heads(self._sessions, self.sealer)

    @classmethod
    def sealed(cls, url: str, keys_dir: Path) -> Database:
        """A Database whose covered rows are sealed with the installation's integrity key: every
        process that writes ledger, event, bank, case, evidence, user or key rows opens it so."""
        from amparo.integrity.mac import load_or_create_key

        db = cls(url)
        db.install_sealer(RowSealer(load_or_create_key(keys_dir)))
        return db

    def install_sealer(self, sealer: RowSealer, *, migrated: bool = False) -> None:
        """Seal covered rows with per-row MACs from now on (store/integrity_repo.py)."""
        from amparo.store import integrity_repo

        if self.sealer is None:
            integrity_repo.install(self._sessions, sealer)
            self.sealer = sealer
            if migrated:
                integrity_repo.ensure_heads(self._sessions, sealer)

    def checkpoint_in_background(self) -> None:
        """For a serving process on SQLite: WAL checkpoints in a thread, not in request commits
        (store/sqlite_checkpoints.py). Nothing for PostgreSQL."""
        if self._checkpoints is None:
            from amparo.store import sqlite_checkpoints

            self._checkpoints = sqlite_checkpoints.start_for(self.engine)

    def dispose(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
            self._checkpoints = None
        self.engine.dispose()
