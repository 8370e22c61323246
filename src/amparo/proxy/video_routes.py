"""HTTP face of the video guard: the OpenAI Videos API, so the official client works unchanged.

    POST   /v1/videos                       create (multipart as the client sends it, or JSON)
    GET    /v1/videos                       list the caller's jobs (after, limit, order)
    GET    /v1/videos/{video_id}            the job
    DELETE /v1/videos/{video_id}
    POST   /v1/videos/{video_id}/remix      JSON {prompt}
    GET    /v1/videos/{video_id}/content    ?variant=video | thumbnail | spritesheet

Same keys, accounts and error bodies as the images routes (routes.py). Creates and remixes are
ledgered, refused or not; reads are not."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from amparo.proxy.openai_errors import ProxyError, RequestRejected
from amparo.proxy.routes import (
    ACCOUNT_HEADER,
    JSON_BODY_FLOOR,
    MAX_ACCOUNT_CHARS,
    _error,
    _read_capped,
    _replay,
    _respond,
)
from amparo.proxy.video_flow import VideoFlow, not_found
from amparo.proxy.videos_request import (
    VideoRequest,
    list_params,
    parse_create_form,
    parse_create_json,
    parse_remix_json,
    valid_video_id,
    variant_param,
)


def add_video_routes(router: APIRouter, videos: VideoFlow, *, caller: Any, settings: Any) -> None:
    """`caller(request)` → the API key's name (None without auth), or raises ProxyError(401/403)."""

    def account_of(request: Request, key_name: str | None) -> str | None:
        acct = request.headers.get(ACCOUNT_HEADER, "").strip() or key_name
        return acct[:MAX_ACCOUNT_CHARS] if acct else None

    async def parse_create(request: Request) -> tuple[bytes, VideoRequest]:
        ctype = request.headers.get("content-type", "").lower()
        if ctype.startswith("application/json"):
            raw = await _read_capped(request, max(JSON_BODY_FLOOR, 8 * settings.max_prompt_chars))
            return raw, parse_create_json(raw, max_prompt_chars=settings.max_prompt_chars)
        if not ctype.startswith("multipart/form-data"):
            raise RequestRejected("send multipart/form-data or JSON", code="invalid_content_type")
        raw = await _read_capped(request, settings.max_upload_bytes + 1024 * 1024)
        try:
            form = await _replay(request, raw).form(
                max_files=2, max_fields=16, max_part_size=max(1024 * 1024, 8 * settings.max_prompt_chars)
            )
        except (MultiPartException, HTTPException):
            raise RequestRejected("the multipart body is malformed", code="invalid_multipart") from None
        try:
            return raw, parse_create_form(
                form, max_prompt_chars=settings.max_prompt_chars, max_image_bytes=settings.max_upload_bytes
            )
        finally:
            await form.close()

    @router.post("/v1/videos", summary="Create a video (OpenAI-compatible, guarded)")
    async def create(request: Request) -> JSONResponse:
        try:
            key_name = await caller(request)
        except ProxyError as e:
            return _error(e)
        raw = b""
        try:
            raw, req = await parse_create(request)
        except ProxyError as e:
            return _respond(
                await run_in_threadpool(
                    videos.flow.record_rejection, "video_generation", account_of(request, key_name), e, raw
                )
            )
        outcome = await run_in_threadpool(videos.create, req, account=account_of(request, key_name), owner=key_name)
        return _respond(outcome)

    @router.post("/v1/videos/{video_id}/remix", summary="Remix a completed video (guarded)")
    async def remix(request: Request, video_id: str) -> JSONResponse:
        try:
            key_name = await caller(request)
        except ProxyError as e:
            return _error(e)
        raw = b""
        try:
            if not valid_video_id(video_id):
                raise not_found()
            raw = await _read_capped(request, max(JSON_BODY_FLOOR, 8 * settings.max_prompt_chars))
            prompt = parse_remix_json(raw, max_prompt_chars=settings.max_prompt_chars)
        except ProxyError as e:
            return _respond(
                await run_in_threadpool(
                    videos.flow.record_rejection, "video_remix", account_of(request, key_name), e, raw
                )
            )
        outcome = await run_in_threadpool(
            videos.remix, video_id, prompt, account=account_of(request, key_name), owner=key_name
        )
        return _respond(outcome)

    @router.get("/v1/videos", summary="List the caller's videos")
    async def list_videos(request: Request) -> JSONResponse:
        try:
            key_name = await caller(request)
            q = request.query_params
            after, limit, order = list_params(q.get("after"), q.get("limit"), q.get("order"))
            return JSONResponse(
                await run_in_threadpool(lambda: videos.list_jobs(owner=key_name, after=after, limit=limit, order=order))
            )
        except ProxyError as e:
            return _error(e)

    async def on_job(request: Request, video_id: str, act: Any) -> JSONResponse:
        """`act(video_id, owner=...)` on one of the caller's jobs, in a worker thread."""
        try:
            key_name = await caller(request)
            if not valid_video_id(video_id):
                raise not_found()
            return JSONResponse(await run_in_threadpool(lambda: act(video_id, owner=key_name)))
        except ProxyError as e:
            return _error(e)

    @router.get("/v1/videos/{video_id}", summary="A video job")
    async def retrieve(request: Request, video_id: str) -> JSONResponse:
        return await on_job(request, video_id, videos.retrieve)

    @router.delete("/v1/videos/{video_id}", summary="Delete a video job and its files")
    async def delete(request: Request, video_id: str) -> JSONResponse:
        return await on_job(request, video_id, videos.delete)

    @router.get("/v1/videos/{video_id}/content", summary="Download a released video, thumbnail or spritesheet")
    async def content(request: Request, video_id: str) -> Response:
        try:
            key_name = await caller(request)
            if not valid_video_id(video_id):
                raise not_found()
            variant = variant_param(request.query_params.get("variant"))
            data, mime = await run_in_threadpool(lambda: videos.content(video_id, variant, owner=key_name))
        except ProxyError as e:
            return _error(e)
        return Response(data, media_type=mime, headers={"Cache-Control": "private, max-age=3600"})
