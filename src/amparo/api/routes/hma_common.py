"""Shared parts of the HMA-compatible routes: HMA's error shape, its names, and hashing media.

HMA (Meta's Hasher-Matcher-Actioner / OpenMediaMatch 1.1) answers every error as `{"message": ...}`
with 400 for any malformed request; these routes do the same, so HMA clients read Amparo's errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

import anyio.to_thread
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from amparo.api.uploads import read_upload
from amparo.content.url_fetch import FetchPolicy, fetch
from amparo.errors import AmparoError, BadInput, TooLarge

JSON_BODY_LIMIT = 1024 * 1024
BANK_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")  # HMA's rule (storage/postgres/database.py)
BANK_NAME_MAX = 100  # Amparo's column width

# HMA's content types and the signal types its default install computes for each, with Amparo's
# name for the same hash (HMA's "video_md5" is the MD5 of the file's bytes, which Amparo calls "md5").
CONTENT_SIGNALS = {"photo": ("pdq",), "video": ("video_md5",)}
HMA_TO_AMPARO = {"pdq": "pdq", "video_md5": "md5"}
AMPARO_TO_HMA = {v: k for k, v in HMA_TO_AMPARO.items()}


class HmaError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def message(status: int, text: str, headers: dict[str, str] | None = None) -> JSONResponse:
    # Messages may quote the request: never let a lone surrogate from it break the response, and
    # never echo more than a short excerpt.
    safe = text.encode("utf-8", "replace").decode("utf-8")[:500]
    return JSONResponse({"message": safe}, status_code=status, headers=headers)


class HmaRoute(APIRoute):
    """Errors from these routes, including auth and validation, in HMA's shape; 422 becomes 400."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except HmaError as e:
                return message(e.status, e.message)
            except AmparoError as e:
                headers = {"WWW-Authenticate": 'Bearer realm="amparo"'} if e.status == 401 else None
                return message(e.status, e.message, headers)
            except StarletteHTTPException as e:  # e.g. a malformed multipart body
                return message(e.status_code, str(e.detail), dict(e.headers or {}))
            except RequestValidationError as e:
                parts = [f"{'.'.join(str(x) for x in err.get('loc', ()))}: {err.get('msg')}" for err in e.errors()]
                return message(400, "; ".join(parts)[:500] or "malformed request")

        return run


MAX_ID = 2**63 - 1  # the largest id a database row can have; larger ones are simply absent


def storable_text(value: str) -> bool:
    """Text every database can store: valid UTF-8 (no lone surrogates) and no NUL (PostgreSQL)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def check_bank_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise HmaError(400, "name is required")
    if len(name) > BANK_NAME_MAX or not BANK_NAME.match(name):
        raise HmaError(400, f"Bank name must be UPPER_WITH_UNDERSCORE (at most {BANK_NAME_MAX}), got {name[:120]!r}")
    return name


async def json_body(request: Request, *, required: bool = True) -> Any:
    """The JSON body, read under a cap; HMA answers 400 for anything that is not JSON."""
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > JSON_BODY_LIMIT:
            raise TooLarge(f"the JSON body is over the limit of {JSON_BODY_LIMIT} bytes")
    if not buf:
        if required:
            raise HmaError(400, "a JSON body is required")
        return None
    try:
        return json.loads(bytes(buf))
    except (ValueError, UnicodeDecodeError):
        raise HmaError(400, "the body is not valid JSON") from None


def is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


def bool_param(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise HmaError(400, "invalid boolean parameter - prefer true/false")


def to_amparo_type(svc: Any, name: str) -> str:
    """Amparo's signal type for an HMA name; 400 for a type HMA's default install does not have."""
    amparo = HMA_TO_AMPARO.get(name)
    if amparo is None:
        raise HmaError(400, f"No such SignalType '{name}'")
    return str(svc.signals.get(amparo).name)


def normalise(svc: Any, hma_type: str, value: Any) -> str:
    if not isinstance(value, str):
        raise HmaError(400, f"Invalid {hma_type} signal: expected a string")
    try:
        return str(svc.signals.get(to_amparo_type(svc, hma_type)).normalise(value))
    except BadInput as e:
        raise HmaError(400, f"Invalid {hma_type} signal: {e.message}") from None


def signal_types_for(content_type: str, types: str | None, *, video_hash: bool = False) -> tuple[str, ...]:
    """The HMA signal types to compute. `video_hash`: the route also answers vPDQ for videos
    (hma_video.py); it is then among the defaults and may be chosen."""
    if content_type not in CONTENT_SIGNALS:
        raise HmaError(400, f"no such content_type: '{content_type}'")
    enabled: tuple[str, ...] = CONTENT_SIGNALS[content_type]
    if video_hash and content_type == "video":
        enabled = (*enabled, "vpdq")
    if types is None:
        return enabled
    chosen = tuple(t.strip() for t in types.split(",") if t.strip())
    for t in chosen:
        if t not in enabled:
            raise HmaError(400, f"signal type '{t}' doesn't exist or is disabled")
    if not chosen:
        raise HmaError(400, "empty signal type selection")
    return chosen


def hash_bytes(svc: Any, data: bytes, hma_types: tuple[str, ...]) -> dict[str, str]:
    """HMA signal name -> value. A PDQ under the quality floor is "" (as pytx's PdqSignal); vpdq
    only when the bytes are a video (hma_video.py)."""
    out: dict[str, str] = {}
    if "vpdq" in hma_types:
        from amparo.api.routes.hma_video import video_hash

        out.update(video_hash(svc, data))
    if "video_md5" in hma_types:
        sig = svc.signals.get("md5").hash_bytes(data)
        out["video_md5"] = sig.value
    if "pdq" in hma_types:
        decoded = svc.pipeline.decode(data)  # once, at full size unless detectors need less
        sig = svc.signals.get("pdq").hash_of_record(decoded, data)  # PDQ only: no digest is asked for
        if sig is not None:
            low = sig.quality is not None and sig.quality < svc.settings.pdq_quality_floor
            out["pdq"] = "" if low else sig.value
    return out


async def hash_upload(request: Request, *, video_hash: bool = False) -> dict[str, str]:
    """HMA's multipart upload hashed: {signal type: hash}."""
    data, types = await read_hma_upload(request, video_hash=video_hash)
    return await anyio.to_thread.run_sync(hash_bytes, request.app.state.service, data, types)


async def read_hma_upload(request: Request, *, video_hash: bool = False) -> tuple[bytes, tuple[str, ...]]:
    """HMA's multipart upload: one file, its field named after the content type (photo / video).
    The bytes and the signal types to hash them with."""
    svc = request.app.state.service
    form = await request.form(max_files=2, max_fields=10)
    files = [(k, v) for k, v in form.multi_items() if hasattr(v, "file")]
    if not files:
        raise HmaError(400, "Missing multipart/form-data file upload")
    if len(files) > 1:
        raise HmaError(400, "Only one file allowed per request")
    field, upload = files[0]
    content_type = "photo" if field == "file" else field  # Amparo's own field name means a photo
    types = signal_types_for(content_type, None, video_hash=video_hash)
    limit = svc.settings.max_video_bytes if content_type == "video" and video_hash else svc.settings.max_upload_bytes
    return read_upload(upload, limit, field), types  # type: ignore[arg-type]


def fetch_policy(settings: Any) -> FetchPolicy:
    hosts = tuple(h.strip().lower() for h in settings.url_fetch_allowed_hosts.split(",") if h.strip())
    return FetchPolicy(
        allowed_hosts=hosts,
        max_bytes=min(settings.url_fetch_max_bytes, settings.max_upload_bytes),
        timeout_seconds=settings.url_fetch_timeout_seconds,
        max_redirects=settings.url_fetch_max_redirects,
        allow_loopback=settings.url_fetch_allow_loopback_for_tests and not settings.is_production,
    )


def _content_type_of(header: str, hint: str | None) -> str:
    if hint:
        return hint
    if header.lower().startswith("image"):
        return "photo"
    if header.lower().startswith("video"):
        return "video"
    raise HmaError(
        400,
        f"unsupported url ContentType: '{header[:100]}', "
        "if you know the expected type, provide it with the content_type query param",
    )


async def hash_url(
    request: Request, url: str, content_type: str | None, types: str | None, *, video_hash: bool = False
) -> dict[str, str]:
    """Fetch (only when the operator turned it on) and hash, as HMA's `?url=`."""
    svc = request.app.state.service
    if not svc.settings.url_fetch_enabled:
        raise HmaError(
            400, "fetching media by URL is off (AMPARO_URL_FETCH_ENABLED); upload the file as multipart instead"
        )
    if content_type is not None:
        signal_types_for(content_type, types, video_hash=video_hash)  # refuse a bad request before fetching
    fetched = await anyio.to_thread.run_sync(fetch, url, fetch_policy(svc.settings))
    kind = _content_type_of(fetched.content_type, content_type)
    chosen = signal_types_for(kind, types, video_hash=video_hash)
    return await anyio.to_thread.run_sync(hash_bytes, svc, fetched.data, chosen)
