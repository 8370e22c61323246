"""Read-only queries for a bank snapshot held in memory by batch scanners (batch/bank_snapshot.py)."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amparo.store.tables import BankEntryRow, BankRow, IndexChangeRow


def exact_values_page(session: Session, *, signal_type: str, after_id: int, limit: int) -> list[tuple[int, str]]:
    """(entry id, value) of the entries of a type in enabled banks, by id after `after_id`. Disabled
    entries are included: the matcher decides what stands, as it does for the PDQ index."""
    q = (
        select(BankEntryRow.id, BankEntryRow.value)
        .join(BankRow, BankRow.id == BankEntryRow.bank_id)
        .where(BankEntryRow.signal_type == signal_type, BankRow.enabled.is_(True), BankEntryRow.id > after_id)
        .order_by(BankEntryRow.id)
        .limit(limit)
    )
    return [(int(i), str(v)) for i, v in session.execute(q)]


def snapshot_version(session: Session) -> str:
    """A short name for the state of the banks: changes whenever a bank or an entry is added, removed,
    switched on or off, or re-thresholded. Removal lists and resumed scans carry it."""
    h = hashlib.sha256()
    for row in session.execute(
        select(
            BankRow.id, BankRow.name, BankRow.category, BankRow.enabled, BankRow.negative, BankRow.pdq_threshold
        ).order_by(BankRow.id)
    ):
        h.update(repr(tuple(row)).encode())
    entries = session.execute(
        select(
            func.count(BankEntryRow.id),
            func.max(BankEntryRow.id),
            func.count(BankEntryRow.id).filter(BankEntryRow.enabled.is_(True)),
        )
    ).one()
    h.update(repr(tuple(entries)).encode())
    h.update(repr(session.scalar(select(func.max(IndexChangeRow.seq)))).encode())
    for opinion_row in session.execute(
        select(BankEntryRow.opinion, func.count(BankEntryRow.id))
        .group_by(BankEntryRow.opinion)
        .order_by(BankEntryRow.opinion)
    ):
        h.update(repr(tuple(opinion_row)).encode())
    return h.hexdigest()[:16]
