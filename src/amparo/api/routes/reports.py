"""Legal reports over HTTP: the queue (state, errors, retry, send), statements of reasons, the Art. 17
statement to a user, the DSA transparency report and evidence packages. Admins act; auditors read."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from amparo.api.auth import require
from amparo.errors import BadInput, NotFound
from amparo.store.keys_repo import ApiPrincipal

router = APIRouter(prefix="/v1/reports", tags=["reports"])


def _reports(request: Request) -> Any:
    """Built per request (cheap): configuration changes apply without a restart, and nothing is shared."""
    from amparo.reports.service import build_reports

    return build_reports(request.app.state.service)


def _day(value: str, what: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), time.min, tzinfo=UTC)
    except ValueError:
        raise BadInput(f"{what} must be a date YYYY-MM-DD", code="bad_date") from None


def _actor(p: ApiPrincipal) -> str:
    return f"apikey:{p.name}"[:100]


@router.get("", summary="The legal-report queue with state and last error")
def list_reports(
    request: Request,
    status: str | None = Query(None, max_length=20),
    target: str | None = Query(None, max_length=40),
    limit: int = Query(200, ge=1, le=5000),
    _: ApiPrincipal = Depends(require("reports.read")),
) -> dict[str, Any]:
    from amparo.reports.exporters import report_summary
    from amparo.store import reports_repo

    r = _reports(request)
    with r.db.session() as s:
        rows = reports_repo.list_reports(s, status=status, target=target, limit=limit)
        return {"reports": [report_summary(x) for x in rows], "targets": r.registry.targets}


@router.get("/transparency", summary="The DSA transparency report for a period (json, csv parts as zip, xlsx)")
def transparency(
    request: Request,
    start: str = Query(..., alias="from"),
    end: str = Query(..., alias="to"),
    format: str = Query("json", pattern="^(json|csv|xlsx)$"),
    _: ApiPrincipal = Depends(require("reports.read")),
) -> Any:
    from amparo.reports.transparency_export import csv_parts, xlsx_bytes

    s, e = _day(start, "from"), _day(end, "to")
    if e <= s:
        raise BadInput("`to` must be after `from`", code="bad_period")
    rep = _reports(request).transparency(start=s, end=e)
    if format == "xlsx":
        return Response(xlsx_bytes(rep), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if format == "csv":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, text in csv_parts(rep).items():
                z.writestr(name, text)
        return Response(buf.getvalue(), media_type="application/zip")
    return rep


@router.get("/sor/{decision_id}", summary="The statement of reasons of one decision (event-N or case-N)")
def sor(request: Request, decision_id: str, _: ApiPrincipal = Depends(require("reports.read"))) -> dict[str, Any]:
    from amparo.reports.sor import SorConfig, checked_statement
    from amparo.reports.sor_client import record_by_decision_id

    r = _reports(request)
    if not decision_id.partition("-")[2].isdigit() or decision_id.split("-")[0] not in ("event", "case"):
        raise BadInput("decision id is event-N or case-N", code="bad_decision_id")
    with r.db.session() as s:
        rec = record_by_decision_id(s, decision_id)
        return checked_statement(rec, key=r.puid_key, config=SorConfig(reference_url=r.config.dsa_reference_url))


@router.get("/user-statement/{decision_id}", summary="The Art. 17 statement to the affected user")
def user_statement(
    request: Request,
    decision_id: str,
    language: str = Query("es", max_length=5),
    _: ApiPrincipal = Depends(require("appeals")),
) -> dict[str, Any]:
    from amparo.reports.art17 import user_statement as make
    from amparo.reports.sor_client import record_by_decision_id

    if not decision_id.partition("-")[2].isdigit() or decision_id.split("-")[0] not in ("event", "case"):
        raise BadInput("decision id is event-N or case-N", code="bad_decision_id")
    with _reports(request).db.session() as s:
        return make(record_by_decision_id(s, decision_id), language=language)


@router.get("/{report_id}", summary="One queued report")
def get_report(request: Request, report_id: int, _: ApiPrincipal = Depends(require("reports.read"))) -> dict[str, Any]:
    from amparo.reports.exporters import report_summary
    from amparo.store import reports_repo

    with _reports(request).db.session() as s:
        row = reports_repo.get_report(s, report_id=report_id)
        if row is None:
            raise NotFound(f"no legal report {report_id}")
        return report_summary(row)


@router.post("/{report_id}/retry", summary="Send one report again")
def retry(request: Request, report_id: int, p: ApiPrincipal = Depends(require("reports.write"))) -> dict[str, Any]:
    return _reports(request).queue.retry(report_id, actor=_actor(p), actor_role=p.role).to_dict()  # type: ignore[no-any-return]


@router.post("/send", summary="Send every queued report (failures stay queued with their error)")
def send(
    request: Request,
    target: str | None = Query(None, max_length=40),
    p: ApiPrincipal = Depends(require("reports.write")),
) -> dict[str, Any]:
    results = _reports(request).queue.process(target=target)
    return {"results": [x.to_dict() for x in results]}


class PeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: str = Field(..., alias="from")
    end: str = Field(..., alias="to")


@router.post("/statements", summary="Queue a statement of reasons for every restriction in a period")
def statements(request: Request, body: PeriodIn, _: ApiPrincipal = Depends(require("reports.write"))) -> dict[str, Any]:
    from amparo.reports.sor_client import enqueue_statements

    with _reports(request).db.session() as s:
        return {"queued": enqueue_statements(s, start=_day(body.start, "from"), end=_day(body.end, "to"))}


class PackageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    case_id: int | None = None
    account: str | None = Field(None, max_length=200)
    start: str | None = Field(None, alias="from")
    end: str | None = Field(None, alias="to")
    purpose: str = Field(..., min_length=1, max_length=500)
    recipient_public_key_pem: str | None = Field(None, max_length=2000)


@router.post("/packages", summary="Build an evidence package (ZIP); places a legal hold on every item")
def package(request: Request, body: PackageIn, p: ApiPrincipal = Depends(require("reports.write"))) -> Response:
    from amparo.reports.package import Scope, build_package, load_recipient_key

    r = _reports(request)
    scope = Scope(
        case_id=body.case_id,
        account=body.account,
        start=_day(body.start, "from") if body.start else None,
        end=_day(body.end, "to") if body.end else None,
    )
    scope.check()
    recipient = load_recipient_key(body.recipient_public_key_pem.encode()) if body.recipient_public_key_pem else None
    pkg_id, data = build_package(
        db=r.db,
        vault=r.service.vault,
        audit=r.service.audit,
        scope=scope,
        actor=_actor(p),
        actor_role=p.role,
        purpose=body.purpose,
        recipient=recipient,
        read_prompt=r.read_prompt(),
    )
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="evidence-package-{pkg_id}.zip"',
            "X-Package-Id": pkg_id,
        },
    )
