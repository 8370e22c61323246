"""HMA-compatible API, so clients written for Meta's Hasher-Matcher-Actioner (OpenMediaMatch 1.1) work
unchanged: the status, site map and hasher routes here; the matcher (/m) and curator (/c) routes in
hma_matching, hma_curation and hma_config. docs/api.md lists every deliberate difference."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse

from amparo.api.auth import principal, require
from amparo.api.routes import hma_config, hma_curation, hma_matching
from amparo.api.routes.hma_common import HmaError, HmaRoute, hash_upload, hash_url
from amparo.store.keys_repo import ApiPrincipal

router = APIRouter(route_class=HmaRoute, tags=["hma-compatible"])


@router.get("/status", response_class=PlainTextResponse)
def status() -> str:
    return "I-AM-ALIVE"


@router.get("/status/live", response_class=PlainTextResponse)
def status_live() -> str:
    return "I-AM-ALIVE"


@router.get("/site-map")
def site_map(request: Request, _: ApiPrincipal = Depends(principal)) -> list[str]:
    """Every API route path of this server, sorted (HMA lists its URL rules the same way)."""
    return sorted(request.app.openapi().get("paths", {}))


@router.get("/h/hash")
async def hash_from_url(
    request: Request,
    url: str | None = None,
    content_type: str | None = None,
    types: str | None = None,
    _: ApiPrincipal = Depends(require("hash")),
) -> dict[str, str]:
    if not url:
        raise HmaError(400, "url is required")
    return await hash_url(request, url, content_type, types, video_hash=True)


@router.post("/h/hash")
async def hash_from_upload(request: Request, _: ApiPrincipal = Depends(require("hash"))) -> dict[str, str]:
    return await hash_upload(request, video_hash=True)


for sub in (hma_matching.router, hma_curation.router, hma_config.router):
    router.include_router(sub)
