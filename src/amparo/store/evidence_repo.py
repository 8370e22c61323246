"""Evidence rows, tombstones, legal holds and the vault's key check value."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from amparo.store.tables_review import (
    CaseRow,
    EvidenceItemRow,
    EvidenceTombstoneRow,
    LegalHoldRow,
    VaultKeyCheckRow,
)

KEY_CHECK_ID = 1
CLOSED_CASE_STATES = ("decided",)


def as_utc(dt: datetime) -> datetime:
    """SQLite gives naive datetimes back; everything stored is UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def read_key_check(session: Session) -> str | None:
    row = session.get(VaultKeyCheckRow, KEY_CHECK_ID)
    return None if row is None else row.key_id


def claim_key_check(session: Session, *, key_id: str) -> str:
    """Store the key check value on first start; return whatever is stored (race-safe)."""
    existing = read_key_check(session)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            session.add(VaultKeyCheckRow(id=KEY_CHECK_ID, key_id=key_id))
    except IntegrityError:
        pass
    stored = read_key_check(session)
    assert stored is not None
    return stored


def insert_item(session: Session, *, row: EvidenceItemRow) -> EvidenceItemRow:
    session.add(row)
    session.flush()
    return row


def get_item(session: Session, *, ref: str) -> EvidenceItemRow | None:
    return session.scalar(select(EvidenceItemRow).where(EvidenceItemRow.ref == ref))


def list_items(
    session: Session, *, case_id: int | None = None, event_id: int | None = None, limit: int = 100
) -> list[EvidenceItemRow]:
    q = select(EvidenceItemRow).order_by(EvidenceItemRow.id).limit(limit)
    if case_id is not None:
        q = q.where(EvidenceItemRow.case_id == case_id)
    if event_id is not None:
        q = q.where(EvidenceItemRow.event_id == event_id)
    return list(session.scalars(q))


def find_by_sha256(session: Session, *, sha256: str) -> EvidenceItemRow | None:
    """The kept (not deleted) evidence item with these exact bytes, if any: the oldest."""
    return session.scalar(
        select(EvidenceItemRow).where(EvidenceItemRow.sha256 == sha256).order_by(EvidenceItemRow.id).limit(1)
    )


def all_refs(session: Session) -> set[str]:
    return set(session.scalars(select(EvidenceItemRow.ref)))


def existing_refs(session: Session, *, refs: list[str]) -> set[str]:
    if not refs:
        return set()
    return set(session.scalars(select(EvidenceItemRow.ref).where(EvidenceItemRow.ref.in_(refs))))


def tombstoned_refs(session: Session, *, refs: list[str]) -> set[str]:
    if not refs:
        return set()
    return set(
        session.scalars(select(EvidenceTombstoneRow.ref).where(EvidenceTombstoneRow.ref.in_(refs)))
    )


def set_case(session: Session, *, ref: str, case_id: int) -> None:
    session.execute(
        update(EvidenceItemRow).where(EvidenceItemRow.ref == ref).values(case_id=case_id)
    )


def set_reported(session: Session, *, ref: str, retain_until: datetime) -> None:
    session.execute(
        update(EvidenceItemRow)
        .where(EvidenceItemRow.ref == ref)
        .values(reported=True, retain_until=retain_until)
    )


def extend_retention(session: Session, *, ref: str, retain_until: datetime) -> None:
    """Keep an item at least until `retain_until` (never shortens)."""
    session.execute(
        update(EvidenceItemRow)
        .where(EvidenceItemRow.ref == ref, EvidenceItemRow.retain_until < retain_until)
        .values(retain_until=retain_until)
        .execution_options(synchronize_session="fetch")  # SQLite's naive datetimes: compare in SQL
    )


def replace_with_tombstone(
    session: Session, *, item: EvidenceItemRow, deleted_by: str, reason: str, now: datetime
) -> EvidenceTombstoneRow:
    stone = EvidenceTombstoneRow(
        ref=item.ref,
        item_id=item.item_id,
        event_id=item.event_id,
        captured_at=item.created_at,
        deleted_at=now,
        deleted_by=deleted_by,
        reason=reason[:300],
        size=item.size,
        sha256=item.sha256,
        sha1=item.sha1,
        md5=item.md5,
        pdq=item.pdq,
    )
    session.add(stone)
    session.execute(delete(EvidenceItemRow).where(EvidenceItemRow.id == item.id))
    session.flush()
    return stone


def get_tombstone(session: Session, *, ref: str) -> EvidenceTombstoneRow | None:
    return session.scalar(select(EvidenceTombstoneRow).where(EvidenceTombstoneRow.ref == ref))


def insert_hold(session: Session, *, hold: LegalHoldRow) -> LegalHoldRow:
    session.add(hold)
    session.flush()
    return hold


def get_hold(session: Session, *, hold_id: int) -> LegalHoldRow | None:
    return session.get(LegalHoldRow, hold_id)


def active_holds(session: Session, *, ref: str, now: datetime) -> list[LegalHoldRow]:
    return list(
        session.scalars(
            select(LegalHoldRow).where(
                LegalHoldRow.evidence_ref == ref,
                LegalHoldRow.released_at.is_(None),
                LegalHoldRow.ends_at > now,
            )
        )
    )


def list_holds(session: Session, *, ref: str) -> list[LegalHoldRow]:
    return list(
        session.scalars(
            select(LegalHoldRow).where(LegalHoldRow.evidence_ref == ref).order_by(LegalHoldRow.id)
        )
    )


def expired_items(session: Session, *, now: datetime, limit: int = 500) -> list[EvidenceItemRow]:
    """Past retention, no active legal hold, and not part of a case still under review."""
    held = exists().where(
        LegalHoldRow.evidence_ref == EvidenceItemRow.ref,
        LegalHoldRow.released_at.is_(None),
        LegalHoldRow.ends_at > now,
    )
    open_case = exists().where(
        and_(CaseRow.id == EvidenceItemRow.case_id, CaseRow.state.not_in(CLOSED_CASE_STATES))
    )
    q = (
        select(EvidenceItemRow)
        .where(
            EvidenceItemRow.retain_until <= now,
            ~held,
            or_(EvidenceItemRow.case_id.is_(None), ~open_case),
        )
        .order_by(EvidenceItemRow.retain_until)
        .limit(limit)
    )
    return list(session.scalars(q))


def legacy_pdq_items(session: Session, *, limit: int = 500) -> list[EvidenceItemRow]:
    """Items whose PDQ came from the pre-0005 fast decode (the bytes are kept: re-hashable)."""
    q = select(EvidenceItemRow).where(EvidenceItemRow.pdq_origin == "legacy_fast").order_by(EvidenceItemRow.id)
    return list(session.scalars(q.limit(limit)))
