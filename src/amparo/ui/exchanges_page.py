"""Reviewer-UI page of the exchanges: each exchange with its state (status, cursor, counts, last
run, last error, samples of skipped records), the partners that pull our banks, and a "sync now"
button for admins. Auditors and admins see it; only admins act."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from amparo.cases import roles


def add_exchanges_routes(router: APIRouter, ui: Any, service: Any) -> None:
    @router.get("/exchanges", response_class=HTMLResponse)
    def exchanges_page(request: Request) -> Response:
        auth = ui.authenticate(request)
        ui.require(auth, roles.VIEW_AUDIT, what="see hash exchanges", subject="exchanges")
        from amparo.banks.exchanges.operations import exchange_out, partner_out
        from amparo.store import exchanges_repo

        with ui.db.session() as s:
            rows = [exchange_out(e, st) for e, st in exchanges_repo.list_exchanges(s)]
            partners = [partner_out(p) for p in exchanges_repo.list_partners(s)]
        return ui.render(request, "exchanges.html", auth=auth, rows=rows, partners=partners)

    @router.post("/exchanges/{name}/sync")
    def sync_now(request: Request, name: str, csrf_token: str = Form("")) -> Response:
        auth = ui.authenticate(request)
        ui.check_csrf(request, auth, csrf_token)
        ui.require(auth, roles.MANAGE, what="sync an exchange", subject=f"exchange:{name}")
        from amparo.banks.exchanges.sync import SyncEngine

        if not hasattr(service, "signals"):  # a UI built from review components alone cannot sync
            return RedirectResponse(f"{ui.prefix}/exchanges", status_code=303)
        r = SyncEngine(service).sync(name, actor=f"user:{auth.actor.name}"[:100], role=auth.actor.role)
        return RedirectResponse(f"{ui.prefix}/exchanges?synced={name}&status={r.status}", status_code=303)
