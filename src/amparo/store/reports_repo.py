"""Reads the reports room needs (events, cases, appeals, ledger, reveals) and the legal_reports queue.

The queue keeps its send state in `legal_reports.status` and the JSON `payload` (attempts, last error,
the remote ids of a half-sent NCMEC report), so a restart resumes where the last commit left it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amparo.store.tables_audit import AuditRecordRow
from amparo.store.tables_events import EventRow, GenerationOutputRow, GenerationRow, LegalReportRow
from amparo.store.tables_review import (
    AppealRow,
    CaseDecisionRow,
    CaseItemRow,
    CaseRow,
    EvidenceItemRow,
    EvidenceTombstoneRow,
    LegalHoldRow,
    UserRow,
)

# -- the queue ----------------------------------------------------------------------------------


def list_reports(
    session: Session, *, status: str | None = None, target: str | None = None, limit: int = 200
) -> list[LegalReportRow]:
    q = select(LegalReportRow).order_by(LegalReportRow.id).limit(limit)
    if status is not None:
        q = q.where(LegalReportRow.status == status)
    if target is not None:
        q = q.where(LegalReportRow.target == target)
    return list(session.scalars(q))


def get_report(session: Session, *, report_id: int) -> LegalReportRow | None:
    return session.get(LegalReportRow, report_id)


def lock_report(session: Session, *, report_id: int) -> LegalReportRow | None:
    """The row, locked for this transaction on PostgreSQL (two senders never send one report)."""
    q = select(LegalReportRow).where(LegalReportRow.id == report_id)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    return session.scalars(q).first()


def save_report(session: Session, *, row: LegalReportRow, status: str, payload: dict[str, Any]) -> None:
    row.status = status
    row.payload = dict(payload)  # a new object: SQLAlchemy sees the JSON change
    session.flush()


def add_report(session: Session, *, row: LegalReportRow) -> LegalReportRow:
    session.add(row)
    session.flush()
    return row


def count_reports_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(LegalReportRow.target, LegalReportRow.status, func.count()).group_by(
            LegalReportRow.target, LegalReportRow.status
        )
    )
    return {f"{t}:{s}": int(n) for t, s, n in rows}


# -- the decision record's sources ---------------------------------------------------------------


def get_event(session: Session, *, event_id: int) -> EventRow | None:
    return session.get(EventRow, event_id)


def events_between(session: Session, *, start: datetime, end: datetime) -> list[EventRow]:
    q = select(EventRow).where(EventRow.created_at >= start, EventRow.created_at < end).order_by(EventRow.id)
    return list(session.scalars(q))


def get_case(session: Session, *, case_id: int) -> CaseRow | None:
    return session.get(CaseRow, case_id)


def cases_for_events(session: Session, *, event_ids: list[int]) -> dict[int, CaseRow]:
    out: dict[int, CaseRow] = {}
    for i in range(0, len(event_ids), 500):
        chunk = event_ids[i : i + 500]
        for c in session.scalars(select(CaseRow).where(CaseRow.event_id.in_(chunk))):
            if c.event_id is not None:
                out[c.event_id] = c
    return out


def cases_between(session: Session, *, start: datetime, end: datetime) -> list[CaseRow]:
    q = select(CaseRow).where(CaseRow.created_at >= start, CaseRow.created_at < end).order_by(CaseRow.id)
    return list(session.scalars(q))


def cases_for_account(session: Session, *, account: str) -> list[CaseRow]:
    return list(session.scalars(select(CaseRow).where(CaseRow.account == account).order_by(CaseRow.id)))


def case_items(session: Session, *, case_id: int) -> list[CaseItemRow]:
    return list(session.scalars(select(CaseItemRow).where(CaseItemRow.case_id == case_id).order_by(CaseItemRow.id)))


def case_decisions(session: Session, *, case_id: int) -> list[CaseDecisionRow]:
    q = select(CaseDecisionRow).where(CaseDecisionRow.case_id == case_id).order_by(CaseDecisionRow.id)
    return list(session.scalars(q))


def appeals_for_case(session: Session, *, case_id: int) -> list[AppealRow]:
    return list(session.scalars(select(AppealRow).where(AppealRow.case_id == case_id).order_by(AppealRow.id)))


def appeals_between(session: Session, *, start: datetime, end: datetime) -> list[AppealRow]:
    q = select(AppealRow).where(AppealRow.filed_at >= start, AppealRow.filed_at < end).order_by(AppealRow.id)
    return list(session.scalars(q))


def user_names(session: Session) -> dict[int, str]:
    return {int(i): str(n) for i, n in session.execute(select(UserRow.id, UserRow.name))}


def evidence_items(session: Session, *, refs: list[str]) -> list[EvidenceItemRow]:
    if not refs:
        return []
    q = select(EvidenceItemRow).where(EvidenceItemRow.ref.in_(refs)).order_by(EvidenceItemRow.id)
    return list(session.scalars(q))


def evidence_between(session: Session, *, start: datetime, end: datetime) -> list[EvidenceItemRow]:
    q = (
        select(EvidenceItemRow)
        .where(EvidenceItemRow.created_at >= start, EvidenceItemRow.created_at < end)
        .order_by(EvidenceItemRow.id)
    )
    return list(session.scalars(q))


def evidence_for_cases(session: Session, *, case_ids: list[int]) -> list[EvidenceItemRow]:
    if not case_ids:
        return []
    q = select(EvidenceItemRow).where(EvidenceItemRow.case_id.in_(case_ids)).order_by(EvidenceItemRow.id)
    return list(session.scalars(q))


def subject_records(session: Session, *, subject_type: str, subject_ids: list[str]) -> list[AuditRecordRow]:
    """Every audit record about these subjects (the chain of custody of evidence, a case's history)."""
    if not subject_ids:
        return []
    out: list[AuditRecordRow] = []
    for i in range(0, len(subject_ids), 500):
        q = select(AuditRecordRow).where(
            AuditRecordRow.subject_type == subject_type, AuditRecordRow.subject_id.in_(subject_ids[i : i + 500])
        )
        out.extend(session.scalars(q))
    return sorted(out, key=lambda r: r.seq)


def revealed_refs(session: Session, *, refs: list[str], action: str) -> set[str]:
    """Evidence refs that a person opened in full (the vault's reveal records)."""
    if not refs:
        return set()
    q = select(AuditRecordRow.subject_id).where(
        AuditRecordRow.subject_type == "evidence", AuditRecordRow.action == action, AuditRecordRow.subject_id.in_(refs)
    )
    return {str(r) for r in session.scalars(q)}


def generations_for_outputs(session: Session, *, sha256s: list[str]) -> list[GenerationRow]:
    if not sha256s:
        return []
    ids = select(GenerationOutputRow.generation_id).where(GenerationOutputRow.sha256.in_(sha256s))
    return list(session.scalars(select(GenerationRow).where(GenerationRow.generation_id.in_(ids))))


def holds(session: Session, *, active_at: datetime | None = None, limit: int = 500) -> list[LegalHoldRow]:
    q = select(LegalHoldRow).order_by(LegalHoldRow.id.desc()).limit(limit)
    if active_at is not None:
        q = q.where(LegalHoldRow.released_at.is_(None), LegalHoldRow.ends_at > active_at)
    return list(session.scalars(q))


def tombstones(session: Session, *, limit: int = 500) -> list[EvidenceTombstoneRow]:
    q = select(EvidenceTombstoneRow).order_by(EvidenceTombstoneRow.id.desc()).limit(limit)
    return list(session.scalars(q))


def generations_for_account(session: Session, *, account: str) -> list[GenerationRow]:
    q = select(GenerationRow).where(GenerationRow.account == account).order_by(GenerationRow.id)
    return list(session.scalars(q))


def decisions_for_cases(session: Session, *, case_ids: list[int]) -> list[CaseDecisionRow]:
    out: list[CaseDecisionRow] = []
    for i in range(0, len(case_ids), 500):
        q = select(CaseDecisionRow).where(CaseDecisionRow.case_id.in_(case_ids[i : i + 500]))
        out.extend(session.scalars(q.order_by(CaseDecisionRow.id)))
    return out
