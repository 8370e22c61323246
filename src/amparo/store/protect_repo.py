"""Repository of /protect self-submission cases (tables_protect.py). Keyword-only functions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from amparo.store.tables_protect import ProtectCaseEntryRow, ProtectCaseRow

ACTIVE = "active"
WITHDRAWN = "withdrawn"


def insert_case(
    session: Session,
    *,
    case_number: str,
    secret_hash: str,
    category: str,
    bank: str,
    language: str,
    pow_nonce: str,
) -> ProtectCaseRow:
    row = ProtectCaseRow(
        case_number=case_number,
        secret_hash=secret_hash,
        category=category,
        bank=bank,
        status=ACTIVE,
        language=language,
        pow_nonce=pow_nonce,
    )
    session.add(row)
    session.flush()
    return row


def add_case_entries(session: Session, *, case_id: int, items: Sequence[tuple[str, str, str, int]]) -> None:
    """items: (signal_type, value, kind, bank entry id)."""
    session.add_all(
        [ProtectCaseEntryRow(case_id=case_id, signal_type=t, value=v, kind=k, entry_id=e) for t, v, k, e in items]
    )
    session.flush()


def nonce_spent(session: Session, *, pow_nonce: str) -> bool:
    return session.scalar(select(ProtectCaseRow.id).where(ProtectCaseRow.pow_nonce == pow_nonce)) is not None


def case_number_taken(session: Session, *, case_number: str) -> bool:
    return session.scalar(select(ProtectCaseRow.id).where(ProtectCaseRow.case_number == case_number)) is not None


def get_case(session: Session, *, case_number: str) -> ProtectCaseRow | None:
    return session.scalar(select(ProtectCaseRow).where(ProtectCaseRow.case_number == case_number))


def case_entries(session: Session, *, case_id: int) -> list[ProtectCaseEntryRow]:
    return list(
        session.scalars(
            select(ProtectCaseEntryRow).where(ProtectCaseEntryRow.case_id == case_id).order_by(ProtectCaseEntryRow.id)
        )
    )


def held_by_other_active_case(session: Session, *, signal_type: str, value: str, case_id: int) -> bool:
    """Another person's active case holds the same hash (then withdrawing this case keeps it banked)."""
    n = session.scalar(
        select(func.count())
        .select_from(ProtectCaseEntryRow)
        .join(ProtectCaseRow, ProtectCaseRow.id == ProtectCaseEntryRow.case_id)
        .where(
            ProtectCaseEntryRow.signal_type == signal_type,
            ProtectCaseEntryRow.value == value,
            ProtectCaseEntryRow.case_id != case_id,
            ProtectCaseRow.status == ACTIVE,
        )
    )
    return bool(n)


def mark_withdrawn(session: Session, *, case_id: int, at: datetime) -> None:
    session.execute(
        update(ProtectCaseRow).where(ProtectCaseRow.id == case_id).values(status=WITHDRAWN, withdrawn_at=at)
    )
    session.execute(
        update(ProtectCaseEntryRow).where(ProtectCaseEntryRow.case_id == case_id).values(entry_id=None)
    )
    session.flush()
