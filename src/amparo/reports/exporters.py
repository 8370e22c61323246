"""One exporter interface, one registry, one queue runner for every legal report target.

Each queued `legal_reports` row is sent by the exporter registered for its `target`. A failure leaves
the row queued with the error and the attempt count (nothing is lost); an error on one row never stops
the others; every submission, success or failure, is in the audit trail. Exporters persist their
progress through `ctx.save` (one committed transaction per step), so a restart resumes a half-sent report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from amparo.audit.trail import AuditTrail
from amparo.errors import AmparoError, Conflict, NotFound
from amparo.store import reports_repo
from amparo.store.database import Database
from amparo.store.tables_events import LegalReportRow

log = logging.getLogger(__name__)

REPORT_SENT = "report.sent"
REPORT_FAILED = "report.failed"
REPORT_RETRY = "report.retry"
REPORT_RETRACTED = "report.retracted"
REPORT_QUEUED = "report.queued"
PACKAGE_BUILT = "evidence.package"

QUEUED, SENT, FAILED, NEEDS_REVIEW = "queued", "sent", "failed", "needs_review"
CLAIM_SECONDS = 600  # a sender that dies mid-send frees the row after this


class ExportError(AmparoError):
    """The remote end refused or could not be reached; the report stays queued."""

    code = "export_failed"
    status = 502


@dataclass
class SendContext:
    """What an exporter may use: the database, the audit trail, a vault, and `save` for its progress."""

    db: Database
    audit: AuditTrail
    vault: Any
    report_id: int
    save: Callable[[dict[str, Any]], None]
    actor: str = "amparo"
    actor_role: str = "system"


class Exporter(Protocol):
    target: str

    def send(self, ctx: SendContext, row: LegalReportRow, state: dict[str, Any]) -> dict[str, Any]:
        """Send one report; return what to record (e.g. the remote id). Raise ExportError on failure."""
        ...


@dataclass
class SendResult:
    report_id: int
    target: str
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.report_id, "target": self.target, "ok": self.ok, "error": self.error, **self.detail}


class ExporterRegistry:
    def __init__(self) -> None:
        self._by_target: dict[str, Exporter] = {}

    def register(self, exporter: Exporter) -> None:
        self._by_target[exporter.target] = exporter

    def get(self, target: str) -> Exporter | None:
        return self._by_target.get(target)

    @property
    def targets(self) -> list[str]:
        return sorted(self._by_target)


class ReportQueue:
    def __init__(self, *, db: Database, audit: AuditTrail, vault: Any, registry: ExporterRegistry) -> None:
        self.db = db
        self.audit = audit
        self.vault = vault
        self.registry = registry

    def _save_state(self, report_id: int, state: dict[str, Any]) -> None:
        with self.db.session() as s:
            row = reports_repo.lock_report(s, report_id=report_id)
            if row is not None:
                payload = dict(row.payload or {})
                payload["state"] = state
                reports_repo.save_report(s, row=row, status=row.status, payload=payload)

    def send_one(self, report_id: int, *, actor: str = "amparo", actor_role: str = "system") -> SendResult:
        with self.db.session() as s:
            row = reports_repo.get_report(s, report_id=report_id)
            if row is None:
                raise NotFound(f"no legal report {report_id}")
            if row.status == SENT:
                raise Conflict(f"legal report {report_id} was already sent")
            target = row.target
            s.expunge(row)
        exporter = self.registry.get(target)
        if exporter is None:
            return self._failed(row, f"no exporter configured for target {target!r}", actor, actor_role)
        if not self.claim(report_id):
            raise Conflict(f"legal report {report_id} is being sent by another process")
        state = dict((row.payload or {}).get("state") or {})
        ctx = SendContext(
            db=self.db,
            audit=self.audit,
            vault=self.vault,
            report_id=report_id,
            save=lambda st: self._save_state(report_id, st),
            actor=actor,
            actor_role=actor_role,
        )
        try:
            detail = exporter.send(ctx, row, state)
        except Exception as e:  # one report's failure never stops the queue
            msg = e.message if isinstance(e, AmparoError) else f"{type(e).__name__}: {e}"
            if not isinstance(e, AmparoError):
                log.exception("exporter %s failed on report %s", target, report_id)
            status = NEEDS_REVIEW if isinstance(e, AmparoError) and e.code == NEEDS_REVIEW else QUEUED
            return self._failed(row, msg, actor, actor_role, status=status)
        return self.mark_sent(report_id, detail, actor=actor, actor_role=actor_role)

    def _failed(
        self, row: LegalReportRow, error: str, actor: str, actor_role: str, *, status: str = QUEUED
    ) -> SendResult:
        with self.db.session() as s:
            fresh = reports_repo.lock_report(s, report_id=row.id)
            assert fresh is not None
            payload = dict(fresh.payload or {})
            payload["attempts"] = int(payload.get("attempts", 0)) + 1
            payload["last_error"] = error[:1000]
            payload["last_attempt_at"] = datetime.now(UTC).isoformat()
            payload.pop("claimed_until", None)
            reports_repo.save_report(s, row=fresh, status=status, payload=payload)
            self.audit.record(
                s,
                action=REPORT_FAILED,
                subject_type="legal_report",
                subject_id=row.id,
                actor=actor,
                actor_role=actor_role,
                details={
                    "target": row.target,
                    "error": error[:300],
                    "attempts": payload["attempts"],
                    "status": status,
                },
            )
        return SendResult(row.id, row.target, False, error=error)

    def claim(self, report_id: int) -> bool:
        """Take the row for one send (a lease in its payload, the row locked on PostgreSQL): two processes
        never send the same report at once. False when it is sent or someone else holds a live lease."""
        now = datetime.now(UTC)
        with self.db.session() as s:
            row = reports_repo.lock_report(s, report_id=report_id)
            if row is None or row.status == SENT:
                return False
            payload = dict(row.payload or {})
            until = payload.get("claimed_until")
            if until and datetime.fromisoformat(until) > now:
                return False
            payload["claimed_until"] = (now + timedelta(seconds=CLAIM_SECONDS)).isoformat()
            reports_repo.save_report(s, row=row, status=row.status, payload=payload)
        return True

    def process(self, *, target: str | None = None, limit: int = 100) -> list[SendResult]:
        """Send every queued report of a configured target (of one target, or all). Batching exporters get
        their rows together; rows of an unconfigured target wait untouched."""
        with self.db.session() as s:
            ids = [(r.id, r.target) for r in reports_repo.list_reports(s, status=QUEUED, target=target, limit=limit)]
        results: list[SendResult] = []
        batched: dict[str, list[int]] = {}
        for rid, tgt in ids:
            exp = self.registry.get(tgt)
            if exp is None:
                continue
            if hasattr(exp, "send_batch"):
                batched.setdefault(tgt, []).append(rid)
            else:
                try:
                    results.append(self.send_one(rid))
                except Conflict:  # sent meanwhile, or held by another sender
                    continue
        for tgt, rids in batched.items():
            results.extend(self.registry.get(tgt).send_batch(self, rids))  # type: ignore[union-attr]
        return results

    def retry(self, report_id: int, *, actor: str, actor_role: str) -> SendResult:
        with self.db.session() as s:
            self.audit.record(
                s,
                action=REPORT_RETRY,
                subject_type="legal_report",
                subject_id=report_id,
                actor=actor,
                actor_role=actor_role,
                details={},
            )
        exp = None
        with self.db.session() as s:
            row = reports_repo.get_report(s, report_id=report_id)
            if row is None:
                raise NotFound(f"no legal report {report_id}")
            if row.status == SENT:
                raise Conflict(f"legal report {report_id} was already sent")
            exp = self.registry.get(row.target)
        if exp is not None and hasattr(exp, "send_batch"):
            return exp.send_batch(self, [report_id])[0]
        return self.send_one(report_id, actor=actor, actor_role=actor_role)

    # Used by batching exporters to record an outcome per row.
    def mark_sent(
        self, report_id: int, detail: dict[str, Any], *, actor: str = "amparo", actor_role: str | None = None
    ) -> SendResult:
        with self.db.session() as s:
            fresh = reports_repo.lock_report(s, report_id=report_id)
            assert fresh is not None
            payload = dict(fresh.payload or {})
            payload.update(remote=detail, sent_at=datetime.now(UTC).isoformat(), last_error=None)
            payload.pop("claimed_until", None)
            payload["attempts"] = int(payload.get("attempts", 0)) + 1
            reports_repo.save_report(s, row=fresh, status=SENT, payload=payload)
            self.audit.record(
                s,
                action=REPORT_SENT,
                subject_type="legal_report",
                subject_id=report_id,
                actor=actor,
                actor_role=actor_role or ("system" if actor == "amparo" else "admin"),
                details={"target": fresh.target, **{k: v for k, v in detail.items() if k != "body"}},
            )
            return SendResult(report_id, fresh.target, True, detail)

    def mark_failed(self, report_id: int, error: str) -> SendResult:
        with self.db.session() as s:
            row = reports_repo.get_report(s, report_id=report_id)
            assert row is not None
            s.expunge(row)
        return self._failed(row, error, "amparo", "system")


def report_summary(row: LegalReportRow) -> dict[str, Any]:
    p = row.payload or {}
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "target": row.target,
        "status": row.status,
        "labels": row.labels,
        "event_id": row.event_id,
        "case_id": p.get("case_id"),
        "decision_id": p.get("decision_id"),
        "attempts": int(p.get("attempts", 0)),
        "last_error": p.get("last_error"),
        "remote": p.get("remote"),
        "sent_at": p.get("sent_at"),
    }
