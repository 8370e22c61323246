"""HTTP face of the generation guard: the OpenAI images API, so the official clients work unchanged.

    POST /v1/images/generations   JSON, as OpenAI
    POST /v1/images/edits         multipart: image (or image[]), optional mask, prompt, ...
    GET  /v1/images/files/{token} images answered in `url` format (unguessable, expiring)
    /v1/videos...                 the OpenAI Videos API (video_routes.py, video_flow.py)

Callers authenticate with an Amparo API key (role with the "generate" permission) as the bearer
token, which is what the `openai` client sends as its api_key; `require_key=False` is for demos.
The caller's account is the X-Amparo-Account header, else the request's `user` (or
`safety_identifier`), else the API key's name. Every answer that is not an image is an
OpenAI-style error body carrying the ledger reference.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from amparo.api.auth import ROLE_PERMISSIONS, principal
from amparo.errors import AmparoError, ConfigurationError
from amparo.proxy.flow import FlowOutcome, ProxyFlow
from amparo.proxy.images_request import (
    MAX_INPUT_IMAGES,
    ImagesRequest,
    parse_edit_form,
    parse_generation_json,
    sniff_image_mime,
)
from amparo.proxy.ledger import GenerationLedger
from amparo.proxy.media_store import MEDIA_SUBDIR, MediaStore
from amparo.proxy.openai_errors import (
    AUTH_ERROR,
    INVALID_REQUEST,
    ProxyError,
    RequestRejected,
    error_body,
)
from amparo.proxy.stamping import Stamper
from amparo.proxy.upstream import UpstreamClient

log = logging.getLogger(__name__)

ACCOUNT_HEADER = "x-amparo-account"
GENERATION_HEADER = "X-Amparo-Generation-Id"
PERMISSION = "generate"  # admin and submitter keys (docs/proxy.md)
MAX_ACCOUNT_CHARS = 200
JSON_BODY_FLOOR = 256 * 1024


@dataclass
class ProxyComponents:
    flow: ProxyFlow
    ledger: GenerationLedger
    media: MediaStore
    upstream: UpstreamClient
    stamper: Stamper
    videos: Any = None  # VideoFlow (video_flow.py): the Videos API guard


def build_proxy_components(service: Any, *, upstream_url: str | None = None, transport: Any = None) -> ProxyComponents:
    s = service.settings
    url = upstream_url or s.upstream_url
    if not url:
        raise ConfigurationError("the proxy needs an upstream URL (AMPARO_UPSTREAM_URL or --upstream)")
    upstream = UpstreamClient(
        url,
        api_key=s.upstream_api_key,
        timeout_s=s.upstream_timeout_seconds,
        max_image_bytes=s.max_upload_bytes,
        transport=transport,
    )
    ledger = GenerationLedger.for_service(service)
    stamper = Stamper.from_settings(s)
    media = MediaStore(s.data_dir / MEDIA_SUBDIR)
    flow = ProxyFlow(service, upstream=upstream, stamper=stamper, ledger=ledger, media=media)
    from amparo.proxy.video_flow import VideoFlow
    from amparo.proxy.video_outputs import VIDEO_SUBDIR, VideoFiles
    from amparo.proxy.video_provider import OpenAIVideosProvider

    provider = OpenAIVideosProvider(
        url,
        api_key=s.upstream_api_key,
        timeout_s=s.upstream_timeout_seconds,
        max_video_bytes=s.max_video_bytes,
        transport=transport,
    )
    videos = VideoFlow(
        flow,
        provider,
        VideoFiles(s.data_dir / VIDEO_SUBDIR),
        poll_s=s.video_poll_seconds,
        job_timeout_s=s.video_job_timeout_seconds,
        ttl_s=s.video_content_ttl_seconds,
    )
    videos.resume()
    return ProxyComponents(flow=flow, ledger=ledger, media=media, upstream=upstream, stamper=stamper, videos=videos)


def _respond(outcome: FlowOutcome) -> JSONResponse:
    headers = {GENERATION_HEADER: outcome.generation_id}
    if outcome.timings_ms:
        headers["Server-Timing"] = ", ".join(f"{k};dur={v:.1f}" for k, v in outcome.timings_ms.items())
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


def _error(err: ProxyError) -> JSONResponse:
    return JSONResponse(error_body(err), status_code=err.status)


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestRejected(
            f"the request body is larger than the limit of {limit} bytes",
            code="request_too_large",
            status=413,
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestRejected(
                f"the request body is larger than the limit of {limit} bytes",
                code="request_too_large",
                status=413,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _replay(request: Request, body: bytes) -> Request:
    """A Request over an already read (size-checked) body, for the multipart parser."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


def build_proxy_router(
    service: Any, *, require_key: bool = True, components: ProxyComponents | None = None
) -> APIRouter:
    comps = components or build_proxy_components(service)
    flow = comps.flow
    settings = service.settings
    router = APIRouter(tags=["proxy"])

    async def caller(request: Request) -> str | None:
        """The API key's name, or raises ProxyError(401/403)."""
        if not require_key:
            return None
        try:
            p = await run_in_threadpool(principal, request)
        except AmparoError as e:
            raise ProxyError(e.message, code="invalid_api_key", status=401, error_type=AUTH_ERROR) from None
        if PERMISSION not in ROLE_PERMISSIONS.get(p.role, frozenset()):
            raise ProxyError(
                f"role {p.role!r} may not use the image proxy",
                code="insufficient_permissions",
                status=403,
                error_type=AUTH_ERROR,
            )
        return f"apikey:{p.name}"

    def account_of(request: Request, req: ImagesRequest | None, key_name: str | None) -> str | None:
        hdr = request.headers.get(ACCOUNT_HEADER, "").strip()
        acct = hdr or (req.user if req is not None else None) or key_name
        return acct[:MAX_ACCOUNT_CHARS] if acct else None

    async def handle(request: Request, operation: str, parse: Any) -> JSONResponse:
        try:
            key_name = await caller(request)
        except ProxyError as e:
            return _error(e)  # not ledgered: unauthenticated traffic must not grow the ledger
        raw = b""
        try:
            raw, req = await parse(request)
        except ProxyError as e:
            outcome = await run_in_threadpool(
                flow.record_rejection, operation, account_of(request, None, key_name), e, raw
            )
            return _respond(outcome)
        outcome = await run_in_threadpool(
            flow.run,
            req,
            account=account_of(request, req, key_name),
            base_url=str(request.base_url),
        )
        return _respond(outcome)

    async def parse_json(request: Request) -> tuple[bytes, ImagesRequest]:
        raw = await _read_capped(request, max(JSON_BODY_FLOOR, 8 * settings.max_prompt_chars))
        return raw, parse_generation_json(raw, max_prompt_chars=settings.max_prompt_chars)

    async def parse_multipart(request: Request) -> tuple[bytes, ImagesRequest]:
        ctype = request.headers.get("content-type", "").lower()
        if not ctype.startswith("multipart/form-data"):
            raise RequestRejected("image edits must be sent as multipart/form-data", code="invalid_content_type")
        raw = await _read_capped(request, 2 * settings.max_upload_bytes + 1024 * 1024)
        try:
            form = await _replay(request, raw).form(
                max_files=MAX_INPUT_IMAGES + 1,
                max_fields=64,
                max_part_size=max(1024 * 1024, 8 * settings.max_prompt_chars),
            )
        except (MultiPartException, HTTPException):
            raise RequestRejected("the multipart body is malformed", code="invalid_multipart") from None
        try:
            return raw, parse_edit_form(
                form,
                max_prompt_chars=settings.max_prompt_chars,
                max_image_bytes=settings.max_upload_bytes,
            )
        finally:
            await form.close()

    @router.post("/v1/images/generations", summary="Generate images (OpenAI-compatible, guarded)")
    async def generations(request: Request) -> JSONResponse:
        return await handle(request, "generation", parse_json)

    @router.post("/v1/images/edits", summary="Edit an image (OpenAI-compatible, guarded)")
    async def edits(request: Request) -> JSONResponse:
        return await handle(request, "edit", parse_multipart)

    @router.get("/v1/images/files/{token}", summary="An image answered in url format (expires)")
    async def media_file(token: str) -> Response:
        data = await run_in_threadpool(comps.media.get, token)
        if data is None:
            return _error(
                ProxyError(
                    "no such image, or its URL has expired",
                    code="not_found",
                    status=404,
                    error_type=INVALID_REQUEST,
                )
            )
        return Response(
            data,
            media_type=sniff_image_mime(data) or "application/octet-stream",
            headers={"Cache-Control": "private, max-age=3600"},
        )

    if comps.videos is not None:
        from amparo.proxy.video_routes import add_video_routes

        add_video_routes(router, comps.videos, caller=caller, settings=settings)
    return router
