"""A full disk is the server's condition, not a bug: 507 Insufficient Storage (RFC 4918), and /ready
reports not ready until space is back, so a load balancer stops sending uploads that cannot be kept."""

from __future__ import annotations

import errno
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

log = logging.getLogger("amparo.api")

SQLITE_FULL = 13
PG_DISK_FULL = "53100"
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
RECENT_FULL_SECONDS = 60.0  # /ready stays "not ready" this long after a write failed for space


def is_storage_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:
        return True
    orig: Any = getattr(exc, "orig", None)
    if orig is None:
        return False
    if getattr(orig, "sqlite_errorcode", None) == SQLITE_FULL or "database or disk is full" in str(orig):
        return True
    return getattr(orig, "sqlstate", None) == PG_DISK_FULL or getattr(orig, "pgcode", None) == PG_DISK_FULL


def storage_problems(app: Any, data_dir: Path, min_free_bytes: int) -> list[str]:
    """What /ready reports about storage: free space in the data directory and recent failures."""
    problems = []
    try:
        free = shutil.disk_usage(data_dir).free
        if free < min_free_bytes:
            problems.append(f"disk: {free} bytes free in the data directory (needs {min_free_bytes})")
    except OSError as e:
        problems.append(f"disk: {e.__class__.__name__}")
    since = time.monotonic() - getattr(app.state, "storage_full_at", float("-inf"))
    if since < RECENT_FULL_SECONDS:
        problems.append(f"storage: a write failed for lack of space {since:.0f}s ago")
    return problems


def install_storage_error_handlers(app: FastAPI) -> None:
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        if is_storage_full(exc):
            request.app.state.storage_full_at = time.monotonic()
            log.error("storage full: %s %s refused with 507", request.method, request.url.path)
            body = {"error": {"code": "insufficient_storage", "message": "the server is out of storage; try later"}}
            return JSONResponse(body, status_code=507)
        log.error("unhandled storage error", exc_info=exc)
        return JSONResponse({"error": {"code": "internal_error", "message": "internal error"}}, status_code=500)

    app.add_exception_handler(OperationalError, handler)
    app.add_exception_handler(OSError, handler)
