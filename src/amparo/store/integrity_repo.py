"""Sealing covered rows as they are written, and reading them back for `amparo verify`.

Every write path is caught in one place, the session: ORM inserts, updates and deletes (in
`after_flush`, when primary keys are known) and bulk `update()` / `delete()` statements (in
`do_orm_execute`, which learns the affected keys before running them). Each touched row is read
back and its MAC written in the same transaction; inserts and deletes adjust the table's head.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Table, event, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.sql import bindparam

from amparo.integrity.mac import MAC_COLUMN, ZERO, RowSealer, xor_hex
from amparo.store.tables import Base, IntegrityHeadRow

# Security-relevant tables outside the audit chain (the audit trail has its own hash chain), by
# name: every row a process writes is of a class it has imported, so sealing needs no other table
# declared, and a light CLI verb does not pay for declaring them all (tests check each name).
COVERED: tuple[str, ...] = (
    "generations",
    "generation_outputs",
    "events",
    "banks",
    "bank_entries",
    "index_changes",  # the feed the matching index applies: a forged "remove" would hide an entry
    "cases",
    "case_items",
    "case_decisions",
    "appeals",
    "evidence_items",
    "evidence_tombstones",
    "legal_holds",
    "legal_reports",
    "api_keys",
    "users",
    "audit_checkpoints",  # deleting stored checkpoints unbalances this head
    "bank_videos",
    "bank_video_frames",  # a forged frame hash would hide a banked video from matching
    "generation_video_jobs",
    "generation_video_frames",  # a forged frame hash would hide a generated video from trace
)


def covered_table(name: str) -> Table:
    """A covered table by name; where this process has not declared it, the whole schema is."""
    tables = Base.metadata.tables
    if name not in tables:
        from amparo.store import schema

        tables = schema.metadata.tables
    return tables[name]


def covered_tables() -> dict[str, Table]:
    """Every covered table by name (`amparo verify`, sealing old rows)."""
    return {name: covered_table(name) for name in COVERED}


def _pk(table: Table) -> Any:
    return list(table.primary_key.columns)[0]  # every covered table has one integer key


def pk_name(table: Table) -> str:
    return str(_pk(table).name)


def _obj_pk(obj: Any) -> int | None:
    table = getattr(obj, "__table__", None)
    return None if table is None else getattr(obj, pk_name(table), None)


def _rows(conn: Connection, table: Table, ids: list[int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        out.extend(dict(r._mapping) for r in conn.execute(select(table).where(_pk(table).in_(chunk))))
    return out


def seal_rows(conn: Connection, sealer: RowSealer, table: Table, ids: list[int]) -> None:
    """Read the rows back as stored and write each one's MAC."""
    if not ids:
        return
    rows = _rows(conn, table, sorted(set(ids)))
    if not rows:
        return
    # Columns with an `onupdate` (banks.updated_at) keep the value the MAC covers: restate it.
    keep = [c.name for c in table.c if c.onupdate is not None]
    values: dict[str, Any] = {MAC_COLUMN: bindparam("_mac"), **{k: bindparam("_k_" + k) for k in keep}}
    stmt = update(table).where(_pk(table) == bindparam("_id")).values(values)
    key = pk_name(table)
    params = [{"_id": r[key], "_mac": sealer.row_mac(table.name, r), **{"_k_" + k: r[k] for k in keep}} for r in rows]
    conn.execute(stmt, params)


def adjust_head(
    conn: Connection,
    sealer: RowSealer,
    table: str,
    *,
    added: list[int],
    removed: list[int],
    bulk_added: int = 0,
    bulk_xor: str = ZERO,
) -> None:
    if not added and not removed and not bulk_added:
        return
    heads: Table = IntegrityHeadRow.__table__  # type: ignore[assignment]
    # FOR UPDATE takes the row lock on PostgreSQL; on SQLite this transaction already holds the
    # write lock (it has just written the rows it counts here).
    q = select(heads.c.row_count, heads.c.presence_xor).where(heads.c.table_name == table).with_for_update()
    row = conn.execute(q).one_or_none()
    if row is None:
        conn.execute(heads.insert().values(table_name=table, row_count=0, presence_xor=ZERO, mac=""))
        row = conn.execute(q).one()
    count, acc = int(row.row_count), str(row.presence_xor)
    for pk in (*added, *removed):
        acc = xor_hex(acc, sealer.presence(table, pk))
    if bulk_added:
        acc = xor_hex(acc, int(bulk_xor, 16))
    count += len(added) - len(removed) + bulk_added
    conn.execute(
        update(heads)
        .where(heads.c.table_name == table)
        .values(row_count=count, presence_xor=acc, mac=sealer.head_mac(table, count, acc))
    )


def ensure_heads(sessions: sessionmaker[Session], sealer: RowSealer) -> None:
    """Create each covered table's head (empty, MAC'd) once, so that a head missing later is
    tampering, not a fresh install. Safe when several processes start together."""
    heads: Table = IntegrityHeadRow.__table__  # type: ignore[assignment]
    with sessions() as s:
        present = {str(r[0]) for r in s.execute(select(heads.c.table_name))}
    for name in COVERED:
        if name in present:
            continue
        try:
            with sessions.begin() as s:
                s.execute(
                    heads.insert().values(
                        table_name=name, row_count=0, presence_xor=ZERO, mac=sealer.head_mac(name, 0, ZERO)
                    )
                )
        except IntegrityError:
            pass  # another process made it first


def install(sessions: sessionmaker[Session], sealer: RowSealer) -> None:
    """Seal every covered row written through sessions made by `sessions`."""
    sessions.configure(info={_SEALER: sealer})  # for Core bulk inserts: see seal_inserted

    @event.listens_for(sessions, "after_flush")
    def _after_flush(session: Session, _ctx: Any) -> None:
        touched: dict[str, list[int]] = {}
        added: dict[str, list[int]] = {}
        removed: dict[str, list[int]] = {}
        for obj in session.new:
            name, pk = getattr(obj, "__tablename__", None), _obj_pk(obj)
            if name in COVERED and pk is not None:
                touched.setdefault(name, []).append(pk)
                added.setdefault(name, []).append(pk)
        for obj in session.dirty:
            name, pk = getattr(obj, "__tablename__", None), _obj_pk(obj)
            if name in COVERED and session.is_modified(obj) and pk is not None:
                touched.setdefault(name, []).append(pk)
        for obj in session.deleted:
            name, pk = getattr(obj, "__tablename__", None), _obj_pk(obj)
            if name in COVERED and pk is not None:
                removed.setdefault(name, []).append(pk)
        if not (touched or removed):
            return
        conn = session.connection()
        for name, ids in touched.items():
            seal_rows(conn, sealer, covered_table(name), ids)
        for name in set(added) | set(removed):
            _pending(session, name, added=added.get(name, []), removed=removed.get(name, []))

    @event.listens_for(sessions, "do_orm_execute")
    def _bulk(state: ORMExecuteState) -> Any:
        if not (state.is_update or state.is_delete):
            return None
        table = getattr(state.statement, "table", None)
        if not isinstance(table, Table) or table.name not in COVERED:
            return None
        where = state.statement.whereclause  # type: ignore[attr-defined]
        q = select(_pk(table)) if where is None else select(_pk(table)).where(where)
        conn = state.session.connection()
        ids = [int(r[0]) for r in conn.execute(q)]
        result = state.invoke_statement()
        if state.is_update:
            seal_rows(conn, sealer, table, ids)
        else:
            _pending(state.session, table.name, added=[], removed=ids)
        return result

    @event.listens_for(sessions, "before_commit")
    def _apply_heads(session: Session) -> None:
        # Heads are locked last, in name order, once per transaction: whatever order the
        # transaction wrote its tables (and the audit head) in, no two commits deadlock on them.
        session.flush()
        pending: dict[str, tuple[list[int], list[int]]] = session.info.pop(_PENDING, {})
        bulk: dict[str, tuple[int, str]] = session.info.pop(_BULK, {})
        if not (pending or bulk):
            return
        conn = session.connection()
        for name in sorted(set(pending) | set(bulk)):
            added, removed = pending.get(name, ([], []))
            n, acc = bulk.get(name, (0, ZERO))
            adjust_head(conn, sealer, name, added=added, removed=removed, bulk_added=n, bulk_xor=acc)

    @event.listens_for(sessions, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(_PENDING, None)
        session.info.pop(_BULK, None)


_PENDING = "amparo_integrity_heads"
_BULK = "amparo_integrity_bulk_heads"


def session_sealer(session: Session) -> RowSealer | None:
    """The sealer installed on this session's factory (None where the database is unsealed)."""
    sealer = session.info.get(_SEALER)
    return sealer if isinstance(sealer, RowSealer) else None


def count_bulk_inserted(session: Session, table: str, *, count: int, presence_xor: str) -> None:
    """Count rows a bulk insert wrote and sealed itself (MACs computed before the COPY) into the
    table's head at commit: `count` rows whose presence tokens XOR to `presence_xor`."""
    if table not in COVERED or not count:
        return
    n, acc = session.info.setdefault(_BULK, {}).get(table, (0, ZERO))
    session.info[_BULK][table] = (n + count, f"{int(acc, 16) ^ int(presence_xor, 16):064x}")


_SEALER = "amparo_integrity_sealer"


def seal_inserted(session: Session, table: Table, ids: list[int]) -> None:
    """Seal rows a Core INSERT (executemany or INSERT ... SELECT ... RETURNING) wrote in this
    transaction: session events see ORM writes and bulk updates/deletes, not Core inserts."""
    sealer = session.info.get(_SEALER)
    if sealer is None or table.name not in COVERED or not ids:
        return
    seal_rows(session.connection(), sealer, table, ids)
    _pending(session, table.name, added=list(ids), removed=[])


def _pending(session: Session, table: str, *, added: list[int], removed: list[int]) -> None:
    acc = session.info.setdefault(_PENDING, {}).setdefault(table, ([], []))
    acc[0].extend(added)
    acc[1].extend(removed)


def iter_rows(session: Session, table: Table, *, batch: int = 2000) -> Iterator[dict[str, Any]]:
    last = -1
    while True:
        rows = [
            dict(r._mapping)
            for r in session.execute(select(table).where(_pk(table) > last).order_by(_pk(table)).limit(batch))
        ]
        if not rows:
            return
        yield from rows
        last = rows[-1][pk_name(table)]


def read_head(session: Session, table: str) -> tuple[int, str, str] | None:
    heads: Table = IntegrityHeadRow.__table__  # type: ignore[assignment]
    row = session.execute(
        select(heads.c.row_count, heads.c.presence_xor, heads.c.mac).where(heads.c.table_name == table)
    ).one_or_none()
    return None if row is None else (int(row.row_count), str(row.presence_xor), str(row.mac))


def unsealed_ids(session: Session, table: Table, *, limit: int = 100_000) -> list[int]:
    q = select(_pk(table)).where(table.c[MAC_COLUMN].is_(None)).order_by(_pk(table)).limit(limit)
    return [int(r[0]) for r in session.execute(q)]


def seal_existing(session: Session, sealer: RowSealer) -> dict[str, int]:
    """Seal rows written before sealing existed (after the 0005 migration) and count them into
    each head; returns counts per table. An admin act, audited by the caller: an unsealed row
    found later by `amparo verify` is reported, never adopted silently."""
    conn = session.connection()
    out: dict[str, int] = {}
    for name, table in covered_tables().items():
        ids = unsealed_ids(session, table)
        seal_rows(conn, sealer, table, ids)
        adjust_head(conn, sealer, name, added=ids, removed=[])
        out[name] = len(ids)
    return out


def row_state(session: Session, sealer: RowSealer | None, table: str, pk: int) -> str:
    """ "intact", "altered", "unsealed" or "unchecked" (no key) for one covered row, read as stored."""
    if sealer is None:
        return "unchecked"
    t = covered_table(table)
    row = session.execute(select(t).where(_pk(t) == pk)).one_or_none()
    if row is None:
        return "missing"
    values = dict(row._mapping)
    if values.get(MAC_COLUMN) is None:
        return "unsealed"
    return "intact" if sealer.check_row(table, values) else "altered"
