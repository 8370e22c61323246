"""HMA's configuration routes: signal types, content types and exchanges (/c/signal_type,
/c/content_type, /c/exchanges*).

Amparo has no exchange clients yet, so the exchange routes answer truthfully in HMA's shapes: no
installed APIs, no configured exchanges, 404 for any named one, and creation refused as HMA refuses an
unknown API type."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request

from amparo.api.auth import require
from amparo.api.routes.hma_common import HmaError, HmaRoute, json_body
from amparo.api.routes.hma_matching import index_stats, selected_types
from amparo.store.keys_repo import ApiPrincipal

router = APIRouter(prefix="/c", route_class=HmaRoute, tags=["hma-compatible"])
EXCHANGE_NAME = re.compile(r"^[A-Z0-9_]+$")
INSTALLED_EXCHANGE_APIS: dict[str, Any] = {}  # none yet


@router.get("/signal_type")
def signal_types(_: ApiPrincipal = Depends(require("banks.read"))) -> list[dict[str, Any]]:
    return [{"name": t, "enabled_ratio": 1.0} for t in selected_types(None)]


@router.put("/signal_type/{signal_type_name}")
def update_signal_type(signal_type_name: str, _: ApiPrincipal = Depends(require("banks.write"))) -> dict[str, Any]:
    # Amparo's signal types are always on; switching one off is done per bank, not globally.
    raise HmaError(403, "signal types cannot be switched off in Amparo; disable the banks instead")


@router.get("/signal_type/index")
def signal_type_index(
    request: Request, signal_type: str | None = None, _: ApiPrincipal = Depends(require("banks.read"))
) -> dict[str, Any]:
    svc = request.app.state.service
    out = {}
    for t in selected_types(signal_type):
        db_size, index_size, newest = index_stats(svc, t)
        out[t] = {
            "db_size": db_size,
            "index_size": index_size,
            "index_out_of_date": db_size != index_size,
            "newest_db_item": newest,
            "index_built_to": newest if db_size == index_size else -1,
        }
    return out


@router.get("/content_type")
def content_types(_: ApiPrincipal = Depends(require("banks.read"))) -> list[dict[str, Any]]:
    return [{"name": "photo", "enabled": True}, {"name": "video", "enabled": True}]


@router.get("/exchanges/apis")
def exchange_apis(_: ApiPrincipal = Depends(require("banks.read"))) -> list[str]:
    return list(INSTALLED_EXCHANGE_APIS)


@router.get("/exchanges/api/{api_name}")
def exchange_api_config(api_name: str, _: ApiPrincipal = Depends(require("banks.read"))) -> dict[str, Any]:
    raise HmaError(400, f"no such Exchange API '{api_name[:100]}'")


@router.post("/exchanges/api/{api_name}")
def exchange_api_credentials(api_name: str, _: ApiPrincipal = Depends(require("banks.write"))) -> dict[str, Any]:
    raise HmaError(400, f"no such Exchange API '{api_name[:100]}'")


@router.get("/exchanges/api/{api_name}/schema")
def exchange_api_schema(api_name: str, _: ApiPrincipal = Depends(require("banks.read"))) -> dict[str, Any]:
    raise HmaError(404, f"Exchange API '{api_name[:100]}' not found")


@router.get("/exchanges")
def exchanges(_: ApiPrincipal = Depends(require("banks.read"))) -> list[str]:
    return []


@router.post("/exchanges", status_code=201)
async def create_exchange(request: Request, _: ApiPrincipal = Depends(require("banks.write"))) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise HmaError(400, "the body must be a JSON object")
    bank = body.get("bank")
    if bank is None:
        raise HmaError(400, "bank is required")
    if not isinstance(bank, str) or not EXCHANGE_NAME.match(bank):
        raise HmaError(400, "Field `bank` must match /^[A-Z0-9_]+$/")
    if not isinstance(body.get("api_json", {}), dict):
        raise HmaError(400, "Field `api_json` must be object")
    api = body.get("api")
    if api is None:
        raise HmaError(400, "Field `api_type` is required")
    raise HmaError(400, f"No such exchange type '{str(api)[:100]}'")


def _no_exchange(name: str) -> HmaError:
    return HmaError(404, f"Exchange '{name[:100]}' not found")


@router.get("/exchange/{exchange_name}")
def get_exchange(exchange_name: str, _: ApiPrincipal = Depends(require("banks.read"))) -> dict[str, Any]:
    raise _no_exchange(exchange_name)


@router.get("/exchange/{exchange_name}/status")
def exchange_status(exchange_name: str, _: ApiPrincipal = Depends(require("banks.read"))) -> dict[str, Any]:
    raise _no_exchange(exchange_name)


@router.put("/exchange/{exchange_name}")
@router.delete("/exchange/{exchange_name}")
def change_exchange(exchange_name: str, _: ApiPrincipal = Depends(require("banks.write"))) -> dict[str, Any]:
    raise _no_exchange(exchange_name)
