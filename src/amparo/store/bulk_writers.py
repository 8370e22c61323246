"""The two database writers behind store/bulk_entries_repo.py: PostgreSQL (COPY) and SQLite
(executemany). Each allocates ids, encodes rows (on the helper thread) and inserts a chunk,
returning the ids that went in (an id left out is a (bank, type, value) the bank already held)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from amparo.integrity.mac import MAC_COLUMN
from amparo.store.tables import BankEntryRow

TABLE = "bank_entries"
STAGE = "amparo_bulk_stage"
# Column order of the staging table and every statement below.
COLUMNS = (
    "id",
    "bank_id",
    "signal_type",
    "value",
    "opinion",
    "enabled",
    "external_id",
    "note",
    "entry_metadata",
    "created_at",
    "pdq_origin",
    MAC_COLUMN,
)
_COLS = ", ".join(COLUMNS)


def safe_text(v: str) -> bool:
    """ASCII letters and digits only: no quoting or escaping needed (JSON and COPY alike)."""
    return v.isascii() and v.isalnum()


class PgWriter:
    """PostgreSQL: ids from the table's sequence; COPY into the table (or, once a chunk meets
    existing values, into a temporary table and INSERT ... SELECT ... ON CONFLICT DO NOTHING)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn = session.connection()
        self.conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (LIKE {TABLE} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        self.conn.exec_driver_sql(f"TRUNCATE {STAGE}")
        self.seq = self.conn.exec_driver_sql(f"SELECT pg_get_serial_sequence('{TABLE}', 'id')").scalar_one()
        self.direct = True

    def allocate(self, n: int) -> list[int]:
        """n values of the id sequence: usually one contiguous run (then only its ends travel)."""
        self.conn.exec_driver_sql("CREATE TEMPORARY TABLE IF NOT EXISTS amparo_bulk_ids (id BIGINT) ON COMMIT DROP")
        self.conn.exec_driver_sql("TRUNCATE amparo_bulk_ids")
        q = f"INSERT INTO amparo_bulk_ids SELECT nextval('{self.seq}') FROM generate_series(1, {int(n)})"
        self.conn.exec_driver_sql(q)
        lo, hi, count = self.conn.exec_driver_sql("SELECT min(id), max(id), count(*) FROM amparo_bulk_ids").one()
        if hi - lo + 1 == count == n:
            return list(range(int(lo), int(hi) + 1))
        return [int(r[0]) for r in self.conn.exec_driver_sql("SELECT id FROM amparo_bulk_ids ORDER BY id")]

    def encode(self, rows: list[tuple[Any, ...]]) -> str:
        return _copy_lines(rows)

    def insert(self, rows: list[tuple[Any, ...]], text: str) -> list[int]:
        """COPY straight into the table inside a savepoint; a chunk that hits an existing
        (bank, type, value) is rolled back to it and goes through the staging table instead,
        and so does every later chunk of the import (a re-import repeats itself)."""
        from psycopg import errors as psycopg_errors  # the postgres extra; only this writer needs it

        raw = self.conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            if self.direct:
                cur.execute("SAVEPOINT amparo_bulk_chunk")
                try:
                    with cur.copy(f"COPY {TABLE} ({_COLS}) FROM STDIN") as copy:
                        copy.write(text)
                except psycopg_errors.UniqueViolation:
                    cur.execute("ROLLBACK TO SAVEPOINT amparo_bulk_chunk")
                    cur.execute("RELEASE SAVEPOINT amparo_bulk_chunk")
                    self.direct = False
                else:
                    cur.execute("RELEASE SAVEPOINT amparo_bulk_chunk")
                    return [r[0] for r in rows]
            with cur.copy(f"COPY {STAGE} ({_COLS}) FROM STDIN") as copy:
                copy.write(text)
            cur.execute(
                f"INSERT INTO {TABLE} ({_COLS}) SELECT {_COLS} FROM {STAGE} "
                "ON CONFLICT (bank_id, signal_type, value) DO NOTHING RETURNING id"
            )
            ids = [int(r[0]) for r in cur.fetchall()]
            cur.execute(f"TRUNCATE {STAGE}")
        return ids

    def finish(self) -> None:
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}")

    def restore(self) -> None:
        """Nothing to give back on PostgreSQL."""


def _copy_text(v: Any) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, dict):
        v = json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    s = str(v)
    if s.isascii() and s.isalnum():
        return s
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_lines(rows: list[tuple[Any, ...]]) -> str:
    """COPY text format. Rows of a plain hash (no note, external id or metadata; safe characters)
    take one f-string each; others are escaped field by field."""
    if not rows:
        return ""
    head = f"\t{rows[0][1]}\t"
    null = "\\N"
    mid = "\tt\t" + null + "\t" + null + "\t{}\t" + _copy_text(rows[0][9]) + "\t"
    out = []
    for r in rows:
        i, _, st, v, op, _, ext, note, meta, _, origin, mac = r
        if ext is None and note is None and not meta and safe_text(v) and safe_text(st) and safe_text(op):
            out.append(f"{i}{head}{st}\t{v}\t{op}{mid}{origin or null}\t{mac or null}\n")
        else:
            out.append("\t".join(_copy_text(x) for x in r) + "\n")
    return "".join(out)


BULK_CACHE_KIB = 128 * 1024


class SqliteWriter:
    """SQLite: ids past the largest ever used (the transaction holds the write lock first);
    executemany into a temporary table; INSERT OR IGNORE ... SELECT ... RETURNING."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn = session.connection()
        # take the write lock before reading the next id: no other writer can take it meanwhile
        self.conn.exec_driver_sql("UPDATE banks SET id = id WHERE id = (SELECT MIN(id) FROM banks)")
        top = self.conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {TABLE}").scalar_one()
        try:
            seq = self.conn.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = ?", (TABLE,)).scalar()
        except Exception:  # no AUTOINCREMENT table in this schema
            seq = None
        self.next_id = max(int(top or 0), int(seq or 0)) + 1
        self.direct = True
        # SQLite's default page cache (2 MiB) thrashes on the two random-key indexes of a large
        # import: pages are spilled and read back (1M rows: 20 s of system time). 128 MiB, this import only.
        self._cache = self.conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
        self.conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{STAGE}")
        self.conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGE} AS SELECT {_COLS} FROM {TABLE} WHERE 0")
        col_type = BankEntryRow.__table__.c
        dialect = session.get_bind().dialect
        # the dialect's own processors: rows stored exactly as the ORM stores them
        self._ts = col_type.created_at.type.dialect_impl(dialect).bind_processor(dialect)
        self._js = col_type.entry_metadata.type.dialect_impl(dialect).bind_processor(dialect)

    def allocate(self, n: int) -> list[int]:
        ids = list(range(self.next_id, self.next_id + n))
        self.next_id += n
        return ids

    def encode(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if not rows:
            return []
        ts = self._ts(rows[0][9]) if self._ts else rows[0][9]
        js = self._js
        empty = js({}) if js else "{}"
        params = [
            (
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                1,
                r[6],
                r[7],
                (js(r[8]) if js else r[8]) if r[8] else empty,
                ts,
                r[10],
                r[11],
            )
            for r in rows
        ]
        return params

    def insert(self, rows: list[tuple[Any, ...]], params: list[tuple[Any, ...]]) -> list[int]:
        if not rows:
            return []
        raw = self.conn.connection.driver_connection
        assert raw is not None
        marks = ", ".join("?" * len(COLUMNS))
        cur = raw.cursor()
        try:
            if self.direct:  # as on PostgreSQL: straight in, in a savepoint, until a chunk conflicts
                cur.execute("SAVEPOINT amparo_bulk_chunk")
                try:
                    cur.executemany(f"INSERT INTO main.{TABLE} ({_COLS}) VALUES ({marks})", params)
                except sqlite3.IntegrityError:
                    cur.execute("ROLLBACK TO SAVEPOINT amparo_bulk_chunk")
                    cur.execute("RELEASE SAVEPOINT amparo_bulk_chunk")
                    self.direct = False
                else:
                    cur.execute("RELEASE SAVEPOINT amparo_bulk_chunk")
                    return [r[0] for r in rows]
            cur.executemany(f"INSERT INTO temp.{STAGE} ({_COLS}) VALUES ({marks})", params)
            cur.execute(f"INSERT OR IGNORE INTO main.{TABLE} ({_COLS}) SELECT {_COLS} FROM temp.{STAGE} RETURNING id")
            ids = [int(r[0]) for r in cur.fetchall()]
            cur.execute(f"DELETE FROM temp.{STAGE}")
        finally:
            cur.close()
        return ids

    def finish(self) -> None:
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{STAGE}")

    def restore(self) -> None:
        """Give the pooled connection its own cache size back, whether the import failed or not
        (a PRAGMA outside the transaction's state: it cannot fail on a failed import)."""
        self.conn.exec_driver_sql(f"PRAGMA cache_size = {int(self._cache)}")
