"""Recorded events (one per checked item)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from amparo.api.auth import require
from amparo.errors import NotFound
from amparo.store import events_repo
from amparo.store.keys_repo import ApiPrincipal

router = APIRouter(prefix="/v1/events", tags=["events"])


@router.get("")
def list_events(
    request: Request, after_id: int = 0, limit: int = 100, _: ApiPrincipal = Depends(require("events.read"))
) -> dict[str, Any]:
    with request.app.state.service.db.session() as s:
        rows = events_repo.list_events(s, after_id=after_id, limit=max(1, min(limit, 1000)))
        return {"events": [events_repo.event_summary(r) for r in rows]}


@router.get("/{event_id}")
def get_event(request: Request, event_id: int, _: ApiPrincipal = Depends(require("events.read"))) -> dict[str, Any]:
    with request.app.state.service.db.session() as s:
        row = events_repo.get_event(s, event_id=event_id)
        if row is None:
            raise NotFound(f"no event {event_id}")
        return {**events_repo.event_summary(row), "verdict": row.verdict}
