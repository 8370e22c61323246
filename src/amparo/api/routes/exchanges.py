"""Hash exchanges over HTTP.

* `/v1/exchange/...`: what partner instances call (Amparo-to-Amparo): signed pages of the banks
  published to them, and their feedback. Authenticated by a partner key (`amx_...`), not an API key.
* `/v1/exchanges/...`: what admins call: the configured exchanges with their state, a sync now.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request

from amparo.api.auth import key_from, require
from amparo.audit import names
from amparo.banks.exchanges import operations, publishing
from amparo.banks.exchanges.base import record_audit
from amparo.banks.exchanges.sync import SyncEngine
from amparo.banks.management import Acting, api_acting
from amparo.errors import BadInput, Unauthorized
from amparo.store import exchanges_repo
from amparo.store.keys_repo import ApiPrincipal
from amparo.store.tables_exchanges import PartnerRow

router = APIRouter(tags=["exchanges"])
_signers: dict[str, Any] = {}


def _signer(request: Request) -> Any:
    keys_dir = request.app.state.service.settings.keys_dir
    key = str(keys_dir)
    if key not in _signers:
        _signers[key] = publishing.exchange_signer(keys_dir)
    return _signers[key]


def partner(request: Request) -> PartnerRow:
    key = key_from(request)
    if not key:
        raise Unauthorized("a partner key is required (Authorization: Bearer amx_...)")
    with request.app.state.service.db.session() as s:
        p = exchanges_repo.authenticate_partner(s, key=key)
        s.expunge(p)
    return p


def _as_partner(request: Request, p: PartnerRow) -> Acting:
    return Acting(request.app.state.service.audit, f"partner:{p.name}"[:100], "partner")


@router.get("/v1/exchange/key", summary="This instance's exchange public key (pin it in the partner's config)")
def exchange_key(request: Request) -> dict[str, str]:
    return publishing.public_key_info(_signer(request))


@router.get("/v1/exchange/banks", summary="The banks published to the calling partner")
def partner_banks(p: PartnerRow = Depends(partner)) -> dict[str, Any]:
    return {"partner": p.name, "banks": list(p.banks or [])}


@router.get("/v1/exchange/banks/{bank}/changes", summary="A signed page of the bank's changes after a cursor")
def partner_changes(
    request: Request,
    bank: str,
    cursor: int = Query(0, ge=0),
    limit: int = Query(1000, ge=1, le=publishing.MAX_PAGE),
    p: PartnerRow = Depends(partner),
) -> dict[str, Any]:
    svc = request.app.state.service
    with svc.db.session() as s:
        page = publishing.build_page(s, _signer(request), partner=p, bank=bank, cursor=cursor, limit=limit)
        if page["records"]:  # a disclosure of hashes is a privileged act; empty polls are not recorded
            record_audit(
                s,
                _as_partner(request, p),
                names.PARTNER_PULL,
                "bank",
                bank,
                {"cursor": cursor, "next_cursor": page["next_cursor"], "records": len(page["records"])},
            )
    return page


@router.post(
    "/v1/exchange/banks/{bank}/feedback", status_code=201, summary="Tell the publisher about one of its hashes"
)
def partner_feedback(
    request: Request,
    bank: str,
    body: dict[str, Any] = Body(...),
    p: PartnerRow = Depends(partner),
) -> dict[str, Any]:
    publishing.check_permission(p, bank)
    svc = request.app.state.service
    stype, value, kind, note = body.get("signal_type"), body.get("value"), body.get("kind"), body.get("note")
    if not isinstance(stype, str) or not isinstance(value, str) or not isinstance(kind, str):
        raise BadInput("feedback needs signal_type, value and kind", code="bad_feedback")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise BadInput("note must be a string of at most 500 characters", code="bad_feedback")
    try:
        hasher = svc.signals.get(stype)
        value = hasher.normalise(value)
    except BadInput as e:
        raise BadInput(e.message, code="bad_feedback") from None
    with svc.db.session() as s:
        row = exchanges_repo.add_feedback(
            s, partner_id=p.id, bank=bank, signal_type=hasher.name, value=value, kind=kind, note=note
        )
        record_audit(
            s,
            _as_partner(request, p),
            names.PARTNER_FEEDBACK,
            "bank",
            bank,
            {"kind": kind, "signal_type": hasher.name, "value": value, "feedback_id": row.id},
        )
        return {"id": row.id, "kind": kind}


# -- admin -------------------------------------------------------------------------------------------
@router.get("/v1/exchanges", summary="Configured exchanges with their sync state")
def list_exchanges(request: Request, _: ApiPrincipal = Depends(require("banks.read"))) -> list[dict[str, Any]]:
    with request.app.state.service.db.session() as s:
        return [operations.exchange_out(e, st) for e, st in exchanges_repo.list_exchanges(s)]


@router.post("/v1/exchanges/{name}/sync", summary="Sync one exchange now")
def sync_now(request: Request, name: str, p: ApiPrincipal = Depends(require("banks.write"))) -> dict[str, Any]:
    svc = request.app.state.service
    who = api_acting(svc.audit, p)
    return SyncEngine(svc).sync(name, actor=who.actor, role=who.role).as_dict()


@router.get("/v1/exchanges/feedback", summary="Partners' feedback on the banks we publish")
def list_feedback(
    request: Request,
    bank: str | None = None,
    kind: Literal["seen", "false_positive", "confirmed"] | None = None,
    _: ApiPrincipal = Depends(require("banks.read")),
) -> list[dict[str, Any]]:
    with request.app.state.service.db.session() as s:
        rows = exchanges_repo.list_feedback(s, bank=bank)
        return [
            {
                "id": r.id,
                "partner_id": r.partner_id,
                "bank": r.bank,
                "signal_type": r.signal_type,
                "value": r.value,
                "kind": r.kind,
                "note": r.note,
                "created_at": r.created_at.isoformat(),
            }
            for r in rows
            if kind is None or r.kind == kind
        ]
