"""Reviewer-UI pages of the reports room: the legal-report queue (state, errors, retry), the DSA
transparency figures with charts, legal holds (with release) and deletions (tombstones).

Auditors and admins see them; only admins act. Charts are server-drawn SVG (the CSP allows no script
or inline style beyond the app's own files)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from amparo.cases import roles
from amparo.errors import BadInput

BAR_W = 360


def bars(pairs: list[tuple[str, float]], *, fmt: str = "{:.0f}") -> dict[str, Any]:
    """A horizontal bar chart's geometry: one row per (label, value)."""
    top = max((v for _, v in pairs), default=0) or 1
    rows = [
        {"label": label, "value": fmt.format(v), "y": 22 * i, "w": max(1, int(BAR_W * v / top)) if v else 0}
        for i, (label, v) in enumerate(pairs)
    ]
    return {"rows": rows, "height": 22 * len(rows) + 4, "width": BAR_W + 360}


def _day(value: str | None, default: date) -> datetime:
    try:
        d = date.fromisoformat(value) if value else default
    except ValueError:
        raise BadInput("dates are YYYY-MM-DD", code="bad_date") from None
    return datetime.combine(d, time.min, tzinfo=UTC)


def add_reports_routes(router: APIRouter, ui: Any, service: Any) -> None:
    if getattr(service, "vault", None) is None:  # a UI built from review components alone
        service = SimpleNamespace(db=ui.db, vault=ui.review.vault, audit=ui.review.audit, settings=None)

    def reports() -> Any:
        from amparo.reports.service import build_reports

        return build_reports(service)

    @router.get("/reports", response_class=HTMLResponse)
    def reports_page(request: Request, status: str | None = None) -> Response:
        auth = ui.authenticate(request)
        ui.require(auth, roles.VIEW_AUDIT, what="see legal reports", subject="reports")
        from amparo.reports.exporters import report_summary
        from amparo.store import reports_repo

        r = reports()
        with ui.db.session() as s:
            rows = [report_summary(x) for x in reports_repo.list_reports(s, status=status, limit=500)]
            counts = reports_repo.count_reports_by_status(s)
        return ui.render(request, "reports.html", auth=auth, rows=rows, counts=counts, targets=r.registry.targets,
                         status_filter=status)  # fmt: skip

    @router.post("/reports/{report_id}/retry")
    def retry(request: Request, report_id: int, csrf_token: str = Form("")) -> Response:
        auth = ui.authenticate(request)
        ui.check_csrf(request, auth, csrf_token)
        ui.require(auth, roles.MANAGE, what="send legal reports", subject=f"report:{report_id}")
        res = reports().queue.retry(report_id, actor=auth.actor.name, actor_role=auth.actor.role)
        outcome = "sent" if res.ok else "failed"
        return RedirectResponse(f"{ui.prefix}/reports?retried={report_id}&outcome={outcome}", status_code=303)

    @router.get("/transparency", response_class=HTMLResponse)
    def transparency_page(request: Request, start: str | None = None, end: str | None = None) -> Response:
        auth = ui.authenticate(request)
        ui.require(auth, roles.VIEW_AUDIT, what="see the transparency report", subject="transparency")
        today = datetime.now(UTC).date()
        s, e = _day(start, date(today.year, 1, 1)), _day(end, date(today.year + 1, 1, 1))
        if e <= s:
            raise BadInput("the end must be after the start", code="bad_period")
        rep = reports().transparency(start=s, end=e)
        illegal = {k: v for k, v in rep["own_initiative_illegal"].items() if k.startswith("KEYWORD")}
        tc = {k: v for k, v in rep["own_initiative_tc"].items() if ":" in k or k.startswith("KEYWORD")}
        pairs = [(k.split(":")[-1].removeprefix("KEYWORD_"), v["measures"]) for k, v in {**illegal, **tc}.items()]
        by_kw = sorted(pairs, key=lambda kv: -kv[1])
        systems = {k: v for k, v in rep["automated_means"]["systems"].items() if k != "TOTAL"}
        precision = [(k, v["precision"]["value"] or 0.0) for k, v in systems.items()]
        return ui.render(
            request,
            "transparency.html",
            auth=auth,
            rep=rep,
            start=s.date().isoformat(),
            end=e.date().isoformat(),
            chart_keywords=bars(by_kw),
            chart_methods=bars(sorted(rep["by_detection_method"].items(), key=lambda kv: -kv[1])),
            chart_precision=bars(precision, fmt="{:.3f}"),
            systems=systems,
        )

    @router.get("/holds", response_class=HTMLResponse)
    def holds_page(request: Request, active: int = 1) -> Response:
        auth = ui.authenticate(request)
        ui.require(auth, roles.VIEW_AUDIT, what="see legal holds", subject="holds")
        from amparo.store import reports_repo

        now = datetime.now(UTC)
        with ui.db.session() as s:
            rows = reports_repo.holds(s, active_at=now if active else None)
            holds = [
                {"id": h.id, "ref": h.evidence_ref, "reason": h.reason, "authority": h.authority,
                 "created_by": h.created_by, "created_at": h.created_at, "ends_at": h.ends_at,
                 "released_at": h.released_at}
                for h in rows
            ]  # fmt: skip
        return ui.render(request, "holds.html", auth=auth, holds=holds, active=active)

    @router.post("/holds/{hold_id}/release")
    def release(request: Request, hold_id: int, reason: str = Form(""), csrf_token: str = Form("")) -> Response:
        auth = ui.authenticate(request)
        ui.check_csrf(request, auth, csrf_token)
        ui.require(auth, roles.MANAGE, what="release legal holds", subject=f"hold:{hold_id}")
        if not reason.strip():
            raise BadInput("releasing a hold needs a reason", code="reason_required")
        with ui.db.session() as s:
            service.vault.release_hold(s, hold_id=hold_id, actor=auth.actor.name, actor_role=auth.actor.role,
                                       reason=reason)  # fmt: skip
        return RedirectResponse(f"{ui.prefix}/holds?released={hold_id}", status_code=303)

    @router.get("/deletions", response_class=HTMLResponse)
    def deletions_page(request: Request) -> Response:
        auth = ui.authenticate(request)
        ui.require(auth, roles.VIEW_AUDIT, what="see deletions", subject="deletions")
        from amparo.store import reports_repo

        with ui.db.session() as s:
            rows = [
                {"ref": t.ref, "item_id": t.item_id, "captured_at": t.captured_at, "deleted_at": t.deleted_at,
                 "deleted_by": t.deleted_by, "reason": t.reason, "sha256": t.sha256, "size": t.size}
                for t in reports_repo.tombstones(s)
            ]  # fmt: skip
        return ui.render(request, "deletions.html", auth=auth, rows=rows)
