"""Liveness and readiness (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from amparo.api.storage_errors import storage_problems

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
def ready(request: Request) -> JSONResponse:
    service = request.app.state.service
    problems = []
    try:
        with service.db.session() as s:
            s.execute(text("SELECT 1"))
    except Exception as e:  # report, never raise: this is a probe
        problems.append(f"database: {e.__class__.__name__}")
    problems += storage_problems(request.app, service.settings.data_dir, service.settings.min_free_disk_bytes)
    stale = service.matcher.seconds_since_refresh()
    if stale > max(60.0, 10 * service.settings.index_refresh_seconds):
        problems.append(f"index: last refresh {stale:.0f}s ago")
    body = {
        "status": "ready" if not problems else "not_ready",
        "problems": problems,
        "index": {
            "pdq_entries": len(service.matcher.pdq),
            "applied_seq": service.matcher.pdq.applied_seq,
            "seconds_since_refresh": round(stale, 1),
        },
    }
    return JSONResponse(body, status_code=200 if not problems else 503)
