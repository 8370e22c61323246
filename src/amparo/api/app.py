"""FastAPI app factory: create_app(service). Routes are thin: parse, call the service, render."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from amparo.api.docs_pages import install_docs
from amparo.api.input_errors import LOG_ECHO_CHARS, install_input_error_handlers, install_log_echo_cap
from amparo.api.middleware_body import MULTIPART_OVERHEAD, BodyLimitMiddleware
from amparo.api.middleware_headers import AUTH_CHALLENGE, SECURITY_HEADERS, SecurityHeadersMiddleware
from amparo.api.middleware_rate import RateLimitMiddleware
from amparo.api.routes import banks, checks, events, health, hma
from amparo.api.storage_errors import install_storage_error_handlers
from amparo.errors import AmparoError
from amparo.service import Service

log = logging.getLogger("amparo.api")
__all__ = ["AUTH_CHALLENGE", "SECURITY_HEADERS", "create_app", "error_body"]

# /protect carries hashes only (docs/protect.md): a body that could hold an image is refused unread.
PROTECT_BODY_LIMIT = 8 * 1024


def _retention_loop(service: Service, stop: threading.Event) -> None:
    from amparo.retention import run_retention

    while not stop.wait(service.settings.retention_interval_seconds):
        try:
            log.info("retention: %s", run_retention(service))
        except Exception:  # never take the API down; try again next interval
            log.exception("retention run failed")


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def create_app(service: Service, *, extra_routers: list[Any] | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.matcher.start_background_refresh(service.settings.index_refresh_seconds)
        stop = threading.Event()
        if service.matcher.owner:  # one process per data directory runs the retention job
            threading.Thread(target=_retention_loop, args=(service, stop), daemon=True).start()
        if service.settings.exchange_tick_seconds > 0:  # every replica; a lease row picks one per exchange
            from amparo.banks.exchanges import scheduler

            scheduler.start(service, stop, service.settings.exchange_tick_seconds)
        yield
        stop.set()

    app = FastAPI(
        title="Amparo",
        version="0.1.0",
        description="Child-safety layer: hash matching, classifiers, request gate, review and evidence.",
        lifespan=lifespan,
        docs_url=None,  # served from packaged assets below (no CDN)
        redoc_url=None,
    )
    install_docs(app)
    app.state.service = service

    @app.exception_handler(AmparoError)
    async def amparo_error(_: Request, exc: AmparoError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": [str(x)[:LOG_ECHO_CHARS] for x in e.get("loc", ())], "msg": str(e.get("msg"))[:LOG_ECHO_CHARS]}
            for e in exc.errors()[:50]
        ]
        return JSONResponse(error_body("bad_request", "the request is malformed", details=details), status_code=422)

    install_input_error_handlers(app)
    install_storage_error_handlers(app)
    install_log_echo_cap()

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")  # the trace stays in the log, never in the response
        return JSONResponse(error_body("internal_error", "internal error"), status_code=500)

    # Security headers; RFC 9110: a 401 names the scheme to authenticate with (innermost, as before).
    app.add_middleware(SecurityHeadersMiddleware)

    upload = service.settings.max_upload_bytes

    def body_limit(path: str) -> int:
        if path.startswith("/protect"):
            return PROTECT_BODY_LIMIT
        # an image edit carries an image and a mask; every other route at most one upload
        files = 2 if path.rstrip("/").endswith("/images/edits") else 1
        return files * upload + MULTIPART_OVERHEAD

    app.add_middleware(BodyLimitMiddleware, limit_for=body_limit)
    st = service.settings
    app.add_middleware(  # outermost: a caller over its limit costs one counter update, nothing more
        RateLimitMiddleware,
        db=service.db,
        per_key=st.rate_limit_per_key,
        per_address=st.rate_limit_per_address,
        window_seconds=st.rate_limit_window_seconds,
    )

    for r in (health.router, checks.router, banks.router, events.router, hma.router):
        app.include_router(r)
    for r in extra_routers or []:
        app.include_router(r)
    return app
