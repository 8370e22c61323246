"""Sending statements of reasons to the Transparency Database (`eu-*` profiles): batches of up to 100,
the existing-puid check before any retry, one bad record never blocking the rest of its batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session

from amparo.errors import AmparoError, NotFound
from amparo.reports.exporters import ExportError, ReportQueue, SendResult
from amparo.reports.record import (
    DecisionRecord,
    _from_event,
    attach_account_actions,
    case_record,
    moderation_records,
)
from amparo.reports.sor import SorConfig, checked_statement
from amparo.reports.sor_schema import MAX_BATCH
from amparo.store import reports_repo
from amparo.store.tables_events import LegalReportRow

SANDBOX_NOTE = "The Commission onboards a platform to a sandbox first, then to production (docs/reports.md)."
TARGET = "dsa_sor"


@dataclass
class TdbClient:
    base_url: str  # e.g. https://transparency.dsa.ec.europa.eu/api/v1
    token: str
    timeout: float = 30.0

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def exists(self, puid: str) -> bool:
        r = httpx.get(
            f"{self.base_url.rstrip('/')}/statement/existing-puid/{puid}",
            headers=self._headers(),
            timeout=self.timeout,
            follow_redirects=False,
        )
        if r.status_code == 302:
            return True
        if r.status_code == 404:
            return False
        raise ExportError(f"Transparency Database existing-puid: HTTP {r.status_code}")

    def post_batch(self, statements: list[dict[str, Any]]) -> httpx.Response:
        return httpx.post(
            f"{self.base_url.rstrip('/')}/statements",
            json={"statements": statements},
            headers=self._headers(),
            timeout=self.timeout,
        )


def record_by_decision_id(session: Session, decision_id: str) -> DecisionRecord:
    kind, _, num = decision_id.partition("-")
    if kind == "case":
        return case_record(session, case_id=int(num))
    ev = reports_repo.get_event(session, event_id=int(num))
    if ev is None:
        raise NotFound(f"no event {num}")
    case = reports_repo.cases_for_events(session, event_ids=[ev.id]).get(ev.id)
    rec = _from_event(ev, case)
    attach_account_actions(session, [rec])
    return rec


def decision_id_of(row: LegalReportRow) -> str | None:
    p = row.payload or {}
    if p.get("decision_id"):
        return str(p["decision_id"])
    if row.event_id is not None:
        return f"event-{row.event_id}"
    if p.get("case_id") is not None:
        return f"case-{p['case_id']}"
    return None


def enqueue_statements(session: Session, *, start: datetime, end: datetime) -> int:
    """Queue one dsa_sor row per restriction in the period that has none yet (idempotent)."""
    have = {decision_id_of(r) for r in reports_repo.list_reports(session, target=TARGET, limit=10_000_000)}
    added = 0
    for rec in moderation_records(session, start=start, end=end):
        if rec.decision_id in have:
            continue
        reports_repo.add_report(
            session,
            row=LegalReportRow(
                event_id=rec.event_id,
                target=TARGET,
                status="queued",
                labels=rec.effective_labels,
                payload={"decision_id": rec.decision_id, "case_id": rec.case_id, "source": "dsa_statements"},
            ),
        )
        added += 1
    return added


class SorExporter:
    target = TARGET

    def __init__(self, client: TdbClient, *, key: bytes, config: SorConfig = SorConfig()) -> None:
        self.client = client
        self.key = key
        self.config = config

    def send(self, ctx: Any, row: LegalReportRow, state: dict[str, Any]) -> dict[str, Any]:
        raise ExportError("statements are sent in batches (ReportQueue.process)")

    def send_batch(self, queue: ReportQueue, report_ids: list[int]) -> list[SendResult]:
        results: list[SendResult] = []
        for i in range(0, len(report_ids), MAX_BATCH):
            results.extend(self._batch(queue, report_ids[i : i + MAX_BATCH]))
        return results

    def _batch(self, queue: ReportQueue, ids: list[int]) -> list[SendResult]:
        results: list[SendResult] = []
        todo: dict[str, tuple[int, dict[str, Any]]] = {}  # puid -> (report id, statement)
        for rid in ids:
            if not queue.claim(rid):
                continue  # sent meanwhile, or another process is sending it
            try:
                with queue.db.session() as s:
                    row = reports_repo.get_report(s, report_id=rid)
                    if row is None:
                        continue
                    did = decision_id_of(row)
                    if did is None:
                        raise ExportError("the queued row names no decision")
                    retry = int((row.payload or {}).get("attempts", 0)) > 0
                    statement = checked_statement(record_by_decision_id(s, did), key=self.key, config=self.config)
                if retry and self.client.exists(statement["puid"]):
                    # sent before, the answer lost: never send a statement twice
                    results.append(queue.mark_sent(rid, {"puid": statement["puid"], "existing": True}))
                    continue
                todo[statement["puid"]] = (rid, statement)
            except (AmparoError, httpx.HTTPError) as e:
                results.append(queue.mark_failed(rid, getattr(e, "message", None) or f"{type(e).__name__}: {e}"))
        for _ in range(2):  # a second round only after removing what the database named
            if not todo:
                break
            try:
                r = self.client.post_batch([st for _, st in todo.values()])
            except httpx.HTTPError as e:
                err = f"Transparency Database unreachable: {type(e).__name__}: {e}"
                results.extend(queue.mark_failed(rid, err) for rid, _ in todo.values())
                return results
            if r.status_code == 201:
                stored = {s.get("puid"): s.get("uuid") for s in r.json().get("statements", [])}
                for puid, (rid, _) in todo.items():
                    results.append(queue.mark_sent(rid, {"puid": puid, "uuid": stored.get(puid)}))
                return results
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            errs = body.get("errors") or {}
            if r.status_code == 422 and (errs.get("existing_puids") or any(k.startswith("statement_") for k in errs)):
                order = list(todo)
                for puid in errs.get("existing_puids") or []:
                    if puid in todo:
                        results.append(queue.mark_sent(todo.pop(puid)[0], {"puid": puid, "existing": True}))
                for k, v in errs.items():
                    if k.startswith("statement_") and int(k.split("_")[1]) < len(order):
                        puid = order[int(k.split("_")[1])]
                        if puid in todo:
                            results.append(queue.mark_failed(todo.pop(puid)[0], f"refused: {v}"))
                continue
            err = f"Transparency Database: HTTP {r.status_code} {str(body)[:300]}"
            results.extend(queue.mark_failed(rid, err) for rid, _ in todo.values())
            return results
        results.extend(queue.mark_failed(rid, "refused twice") for rid, _ in todo.values())
        return results
