"""Recorded events (one per checked item)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from amparo.api.auth import require
from amparo.errors import NotFound
from amparo.store import events_repo
from amparo.store.keys_repo import ApiPrincipal

router = APIRouter(prefix="/v1/events", tags=["events"])


# What an auditor may read of a verdict: how it was decided, never who (account) or what was said
# (prompt-stage evidence terms, classifier details): docs/review.md "Auditors see records, never content".
_AUDITOR_VERDICT_KEYS = ("item_id", "decision", "labels", "rule", "actions", "policy", "profile", "event_id")


def _auditor_view(summary: dict[str, Any], verdict: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {**summary, "account": None}
    if verdict is not None:
        out["verdict"] = {k: verdict[k] for k in _AUDITOR_VERDICT_KEYS if k in verdict}
        out["verdict"]["reasons"] = [  # a reason's evidence can quote the prompt: left out
            {k: r.get(k) for k in ("rule", "label", "decision", "description")}
            for r in verdict.get("reasons") or []
            if isinstance(r, dict)
        ]
        out["verdict"]["stages"] = [
            {k: v for k, v in st.items() if k in ("stage", "ran", "elapsed_ms")}
            for st in verdict.get("stages") or []
            if isinstance(st, dict)
        ]
        out["redacted"] = ["account", "reasons.evidence", "signals", "matches", "classifications"]
    return out


@router.get("")
def list_events(
    request: Request, after_id: int = 0, limit: int = 100, p: ApiPrincipal = Depends(require("events.read"))
) -> dict[str, Any]:
    with request.app.state.service.db.session() as s:
        rows = events_repo.list_events(s, after_id=after_id, limit=max(1, min(limit, 1000)))
        summaries = [events_repo.event_summary(r) for r in rows]
    if p.role == "auditor":
        summaries = [_auditor_view(x) for x in summaries]
    return {"events": summaries}


@router.get("/{event_id}")
def get_event(request: Request, event_id: int, p: ApiPrincipal = Depends(require("events.read"))) -> dict[str, Any]:
    with request.app.state.service.db.session() as s:
        row = events_repo.get_event(s, event_id=event_id)
        if row is None:
            raise NotFound(f"no event {event_id}")
        summary, verdict = events_repo.event_summary(row), row.verdict
    if p.role == "auditor":
        return _auditor_view(summary, verdict)
    return {**summary, "verdict": verdict}
