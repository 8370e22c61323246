"""Cases, decisions, appeals, reviewers, sign-in sessions and exposure counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from amparo.store.tables import BankRow
from amparo.store.tables_review import (
    AppealRow,
    CaseDecisionRow,
    CaseItemRow,
    CaseRow,
    ExposureCounterRow,
    SignInAttemptRow,
    UiSessionRow,
    UserRow,
)

OPEN_STATES = ("open", "assigned", "escalated")

# -- users ------------------------------------------------------------------------------


def insert_user(session: Session, *, name: str, role: str, password_hash: str) -> UserRow:
    row = UserRow(name=name, role=role, password_hash=password_hash, active=True)
    session.add(row)
    session.flush()
    return row


def get_user(session: Session, *, user_id: int) -> UserRow | None:
    return session.get(UserRow, user_id)


def get_user_by_name(session: Session, *, name: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.name == name))


def list_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.name)))


def set_password_hash(session: Session, *, user_id: int, password_hash: str) -> None:
    session.execute(
        update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash)
    )


def set_user_active(session: Session, *, user_id: int, active: bool) -> None:
    session.execute(update(UserRow).where(UserRow.id == user_id).values(active=active))


def touch_sign_in(session: Session, *, user_id: int, at: datetime) -> None:
    session.execute(update(UserRow).where(UserRow.id == user_id).values(last_sign_in_at=at))


# -- sign-in sessions and attempts --------------------------------------------------------


def insert_ui_session(
    session: Session, *, token_hash: str, user_id: int, expires_at: datetime, ip: str | None
) -> UiSessionRow:
    row = UiSessionRow(token_hash=token_hash, user_id=user_id, expires_at=expires_at, ip=ip)
    session.add(row)
    session.flush()
    return row


def get_ui_session(session: Session, *, token_hash: str) -> UiSessionRow | None:
    return session.get(UiSessionRow, token_hash)


def touch_ui_session(session: Session, *, token_hash: str, at: datetime) -> None:
    session.execute(
        update(UiSessionRow).where(UiSessionRow.token_hash == token_hash).values(last_seen_at=at)
    )


def revoke_ui_session(session: Session, *, token_hash: str, at: datetime) -> None:
    session.execute(
        update(UiSessionRow).where(UiSessionRow.token_hash == token_hash).values(revoked_at=at)
    )


def insert_sign_in_attempt(session: Session, *, name: str, ip: str, ok: bool, at: datetime) -> None:
    session.add(SignInAttemptRow(name=name[:100], ip=ip[:64], ok=ok, created_at=at))
    session.flush()


def count_failed_sign_ins(
    session: Session, *, since: datetime, name: str | None = None, ip: str | None = None
) -> int:
    q = (
        select(func.count())
        .select_from(SignInAttemptRow)
        .where(SignInAttemptRow.created_at >= since, SignInAttemptRow.ok.is_(False))
    )
    if name is not None:
        q = q.where(SignInAttemptRow.name == name)
    if ip is not None:
        q = q.where(SignInAttemptRow.ip == ip)
    return int(session.scalar(q) or 0)


# -- exposure ---------------------------------------------------------------------------


def increment_exposure(session: Session, *, user_id: int, day: str, limit: int) -> int | None:
    """Count one reveal; None (and no change) when the day's limit is already reached.
    The limit is enforced inside the UPDATE, so concurrent reveals cannot exceed it."""
    for _ in range(2):
        res = session.execute(
            update(ExposureCounterRow)
            .where(
                ExposureCounterRow.user_id == user_id,
                ExposureCounterRow.day == day,
                ExposureCounterRow.count < limit,
            )
            .values(count=ExposureCounterRow.count + 1)
        )
        if res.rowcount:  # type: ignore[attr-defined]
            return get_exposure(session, user_id=user_id, day=day)
        if get_exposure_row(session, user_id=user_id, day=day) is not None:
            return None  # at the limit
        if limit <= 0:
            return None
        try:
            with session.begin_nested():
                session.add(ExposureCounterRow(user_id=user_id, day=day, count=1))
            return 1
        except IntegrityError:
            continue  # another request created the row first: count on it
    return None


def get_exposure_row(session: Session, *, user_id: int, day: str) -> ExposureCounterRow | None:
    return session.scalar(
        select(ExposureCounterRow).where(
            ExposureCounterRow.user_id == user_id, ExposureCounterRow.day == day
        )
    )


def get_exposure(session: Session, *, user_id: int, day: str) -> int:
    return int(
        session.scalar(
            select(ExposureCounterRow.count).where(
                ExposureCounterRow.user_id == user_id, ExposureCounterRow.day == day
            )
        )
        or 0
    )


# -- cases ------------------------------------------------------------------------------


def insert_case(session: Session, *, row: CaseRow) -> CaseRow:
    session.add(row)
    session.flush()
    return row


def insert_case_item(session: Session, *, row: CaseItemRow) -> CaseItemRow:
    session.add(row)
    session.flush()
    return row


def set_case_item_evidence(
    session: Session, *, case_id: int, item_id: str, evidence_ref: str
) -> None:
    session.execute(
        update(CaseItemRow)
        .where(CaseItemRow.case_id == case_id, CaseItemRow.item_id == item_id)
        .values(evidence_ref=evidence_ref)
    )


def case_for_evidence(session: Session, *, evidence_ref: str) -> int | None:
    return session.scalar(
        select(CaseItemRow.case_id).where(CaseItemRow.evidence_ref == evidence_ref).limit(1)
    )


def list_bankable_banks(session: Session) -> list[BankRow]:
    """Enabled, non-"safe" banks a confirmed item's hashes can be added to (core table)."""
    return list(
        session.scalars(
            select(BankRow)
            .where(BankRow.enabled.is_(True), BankRow.negative.is_(False))
            .order_by(BankRow.name)
        )
    )


def get_case(session: Session, *, case_id: int) -> CaseRow | None:
    return session.get(CaseRow, case_id)


def find_case_by_event(session: Session, *, event_id: int) -> CaseRow | None:
    """The case an event opened, or the open case a repeat of the same item joined."""
    case = session.scalar(select(CaseRow).where(CaseRow.event_id == event_id).limit(1))
    if case is not None:
        return case
    return session.scalar(
        select(CaseRow)
        .join(CaseItemRow, CaseItemRow.case_id == CaseRow.id)
        .where(CaseItemRow.event_id == event_id)
        .order_by(CaseRow.id)
        .limit(1)
    )


def find_open_case_for_evidence(session: Session, *, evidence_ref: str, account: str | None) -> CaseRow | None:
    """An open case that already holds this evidence item, for the same account."""
    return session.scalar(
        select(CaseRow)
        .join(CaseItemRow, CaseItemRow.case_id == CaseRow.id)
        .where(
            CaseItemRow.evidence_ref == evidence_ref,
            CaseRow.state.in_(OPEN_STATES),
            CaseRow.account.is_(None) if account is None else CaseRow.account == account,
        )
        .order_by(CaseRow.id)
        .limit(1)
    )


def list_case_items(session: Session, *, case_id: int) -> list[CaseItemRow]:
    return list(
        session.scalars(
            select(CaseItemRow).where(CaseItemRow.case_id == case_id).order_by(CaseItemRow.id)
        )
    )


def list_queue(
    session: Session, *, include_escalated: bool, limit: int = 200, offset: int = 0
) -> list[CaseRow]:
    """Open cases, most urgent first, then oldest first."""
    states = OPEN_STATES if include_escalated else ("open", "assigned")
    q = (
        select(CaseRow)
        .where(CaseRow.state.in_(states))
        .order_by(CaseRow.priority.desc(), CaseRow.created_at, CaseRow.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(q))


def list_cases(session: Session, *, state: str | None = None, limit: int = 200) -> list[CaseRow]:
    q = select(CaseRow).order_by(CaseRow.id.desc()).limit(limit)
    if state is not None:
        q = q.where(CaseRow.state == state)
    return list(session.scalars(q))


def update_case_if_version(
    session: Session, *, case_id: int, expected_version: int, values: dict[str, Any]
) -> bool:
    """Compare-and-set on `version`: False when someone else changed the case first."""
    res = session.execute(
        update(CaseRow)
        .where(CaseRow.id == case_id, CaseRow.version == expected_version)
        .values(version=CaseRow.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


def insert_decision(session: Session, *, row: CaseDecisionRow) -> CaseDecisionRow:
    session.add(row)
    session.flush()
    return row


def list_decisions(session: Session, *, case_id: int) -> list[CaseDecisionRow]:
    return list(
        session.scalars(
            select(CaseDecisionRow)
            .where(CaseDecisionRow.case_id == case_id)
            .order_by(CaseDecisionRow.id)
        )
    )


def decider_ids(session: Session, *, case_id: int) -> set[int]:
    return {
        int(r)
        for r in session.scalars(
            select(CaseDecisionRow.reviewer_id).where(
                CaseDecisionRow.case_id == case_id,
                CaseDecisionRow.reviewer_id.is_not(None),
                CaseDecisionRow.kind.in_(("confirm", "not_violating")),
            )
        )
        if r is not None
    }


# -- appeals ----------------------------------------------------------------------------


def insert_appeal(session: Session, *, row: AppealRow) -> AppealRow:
    session.add(row)
    session.flush()
    return row


def get_appeal(session: Session, *, appeal_id: int) -> AppealRow | None:
    return session.get(AppealRow, appeal_id)


def list_appeals(
    session: Session, *, state: str | None = None, limit: int = 200
) -> list[AppealRow]:
    q = select(AppealRow).order_by(AppealRow.filed_at, AppealRow.id).limit(limit)
    if state is not None:
        q = q.where(AppealRow.state == state)
    return list(session.scalars(q))


def open_appeal_for_case(session: Session, *, case_id: int) -> AppealRow | None:
    return session.scalar(
        select(AppealRow).where(AppealRow.case_id == case_id, AppealRow.state == "open").limit(1)
    )


def update_appeal_if_version(
    session: Session, *, appeal_id: int, expected_version: int, values: dict[str, Any]
) -> bool:
    res = session.execute(
        update(AppealRow)
        .where(AppealRow.id == appeal_id, AppealRow.version == expected_version)
        .values(version=AppealRow.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


# -- statistics -------------------------------------------------------------------------


def count_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(CaseRow.state, func.count()).group_by(CaseRow.state))
    return {str(s): int(n) for s, n in rows}


def decided_case_times(
    session: Session, *, limit: int = 2000
) -> list[tuple[datetime, datetime | None]]:
    rows = session.execute(
        select(CaseRow.created_at, CaseRow.decided_at)
        .where(CaseRow.decided_at.is_not(None))
        .order_by(CaseRow.decided_at.desc())
        .limit(limit)
    )
    return [(a, b) for a, b in rows]


def decisions_by_label(session: Session) -> dict[str, int]:
    label = case(
        (CaseDecisionRow.kind == "confirm", CaseDecisionRow.label), else_=CaseDecisionRow.kind
    )
    rows = session.execute(
        select(label, func.count())
        .where(CaseDecisionRow.kind.in_(("confirm", "not_violating", "escalate")))
        .group_by(label)
    )
    return {str(k): int(n) for k, n in rows}


def appeal_outcomes(
    session: Session, *, limit: int = 2000
) -> list[tuple[str | None, datetime, datetime | None]]:
    rows = session.execute(
        select(AppealRow.outcome, AppealRow.filed_at, AppealRow.decided_at)
        .order_by(AppealRow.id.desc())
        .limit(limit)
    )
    return [(o, f, d) for o, f, d in rows]
