"""Audit records and the chain head. Appends are serialized on the single head row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from amparo.store.tables_audit import AuditCheckpointRow, AuditHeadRow, AuditRecordRow

HEAD_ID = 1
ZERO_HASH = "0" * 64


def claim_next_seq(session: Session) -> tuple[int, str]:
    """Lock the head row and return (next seq, previous hash).

    The UPDATE comes first: on PostgreSQL it takes the row lock (a concurrent appender waits
    until this transaction ends, then sees the new head); on SQLite it takes the database
    write lock before anything is read, so no stale snapshot can be extended.
    """
    res = session.execute(
        update(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).values(seq=AuditHeadRow.seq + 1)
    )
    if res.rowcount == 0:  # type: ignore[attr-defined]  # head missing (tables made without migration)
        session.add(AuditHeadRow(id=HEAD_ID, seq=1, hash=ZERO_HASH))
        session.flush()
    row = session.execute(
        select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == HEAD_ID)
    ).one()
    return int(row.seq), str(row.hash)


def insert_record(session: Session, *, record: dict[str, Any]) -> AuditRecordRow:
    row = AuditRecordRow(**record)
    session.add(row)
    session.execute(
        update(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).values(hash=record["hash"])
    )
    session.flush()
    return row


def read_head(session: Session) -> tuple[int, str]:
    row = session.execute(
        select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == HEAD_ID)
    ).one_or_none()
    return (0, ZERO_HASH) if row is None else (int(row.seq), str(row.hash))


def iter_records(session: Session, *, batch: int = 2000, after_seq: int = -1) -> Iterator[Row[Any]]:
    """Records after `after_seq` in seq order as plain rows (not tracked by the session), in batches."""
    table = AuditRecordRow.__table__
    last = after_seq
    while True:
        rows = list(
            session.execute(
                select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def list_records(
    session: Session,
    *,
    limit: int = 100,
    before_seq: int | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    action: str | None = None,
) -> list[AuditRecordRow]:
    q = select(AuditRecordRow).order_by(AuditRecordRow.seq.desc()).limit(limit)
    if before_seq is not None:
        q = q.where(AuditRecordRow.seq < before_seq)
    if subject_type is not None:
        q = q.where(AuditRecordRow.subject_type == subject_type)
    if subject_id is not None:
        q = q.where(AuditRecordRow.subject_id == subject_id)
    if action is not None:
        q = q.where(AuditRecordRow.action == action)
    return list(session.scalars(q))


def count_records(session: Session, *, action: str | None = None) -> int:
    q = select(func.count()).select_from(AuditRecordRow)
    if action is not None:
        q = q.where(AuditRecordRow.action == action)
    return int(session.scalar(q) or 0)


def get_record(session: Session, *, seq: int) -> AuditRecordRow | None:
    return session.get(AuditRecordRow, seq)


def insert_checkpoint(session: Session, *, checkpoint: dict[str, Any]) -> AuditCheckpointRow:
    row = AuditCheckpointRow(**checkpoint)
    session.add(row)
    session.flush()
    return row


def list_checkpoints(session: Session, *, limit: int = 20) -> list[AuditCheckpointRow]:
    return list(
        session.scalars(
            select(AuditCheckpointRow).order_by(AuditCheckpointRow.id.desc()).limit(limit)
        )
    )
