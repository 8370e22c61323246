"""Events (one per checked item) and per-account attempt records."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amparo.domain.items import Item
from amparo.domain.verdicts import Verdict
from amparo.store.tables import utcnow
from amparo.store.tables_events import AccountAttemptRow, EventRow


def _event_row(item: Item, verdict: Verdict, automated: bool) -> EventRow:
    # Only a hash of record is stored (a fast lookup value is not the reference PDQ).
    pdq = next((s.value for s in verdict.signals if s.type == "pdq" and s.exact), None)
    sha = next((s.value for s in verdict.signals if s.type == "sha256"), None)
    return EventRow(
        item_id=item.id,
        kind=item.kind.value,
        account=item.context.account,
        surface=item.context.surface,
        jurisdiction=verdict.profile,
        decision=verdict.decision.value,
        labels=list(verdict.labels),
        rule=verdict.rule,
        automated=automated,
        sha256=sha,
        pdq=pdq,
        verdict=_without_prompt_text(verdict.to_dict()),
    )


def record_event(session: Session, *, item: Item, verdict: Verdict, automated: bool = True) -> int:
    row = _event_row(item, verdict, automated)
    session.add(row)
    session.flush()
    return row.id


def record_events(session: Session, events: list[tuple[Item, Verdict]]) -> list[int]:
    """Several events in one flush (one insert batch, one seal pass): the group commit's write."""
    rows = [_event_row(item, verdict, True) for item, verdict in events]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def _without_prompt_text(v: dict[str, Any]) -> dict[str, Any]:
    """Events keep the decision and its evidence terms, never the prompt itself (the generation
    ledger keeps prompts, encrypted)."""
    for c in v.get("classifications", []):
        if c.get("stage") == "prompt":
            c["details"] = {k: val for k, val in c.get("details", {}).items() if k not in ("normalised", "text")}
    return v


def get_event(session: Session, *, event_id: int) -> EventRow | None:
    return session.get(EventRow, event_id)


def list_events(session: Session, *, after_id: int = 0, limit: int = 100) -> list[EventRow]:
    return list(session.scalars(select(EventRow).where(EventRow.id > after_id).order_by(EventRow.id).limit(limit)))


def count_events_by_decision(session: Session) -> dict[str, int]:
    return {d: int(n) for d, n in session.execute(select(EventRow.decision, func.count()).group_by(EventRow.decision))}


def record_attempt(session: Session, *, account: str, label: str, item_id: str) -> None:
    session.add(AccountAttemptRow(account=account, label=label, item_id=item_id))
    session.flush()


def count_attempts(session: Session, *, account: str, label: str, within: timedelta) -> int:
    since: datetime = utcnow() - within
    return int(
        session.scalar(
            select(func.count())
            .select_from(AccountAttemptRow)
            .where(
                AccountAttemptRow.account == account,
                AccountAttemptRow.label == label,
                AccountAttemptRow.created_at >= since,
            )
        )
        or 0
    )


def event_summary(row: EventRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat(),
        "item_id": row.item_id,
        "kind": row.kind,
        "account": row.account,
        "decision": row.decision,
        "labels": row.labels,
        "rule": row.rule,
    }
