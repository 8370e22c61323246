"""Retention: delete what the policy profile no longer lets Amparo keep (GDPR Art. 5(1)(e)), except
what legal holds and open cases still need. Run by `amparo retention` (cron) and hourly by `serve`."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from amparo.store.tables_events import AccountAttemptRow, EventRow


def run_retention(service: Any, *, now: datetime | None = None) -> dict[str, int]:
    now = now or datetime.now(UTC)
    ret = service.policy.retention
    out: dict[str, int] = {}
    with service.db.session() as s:
        cutoff = now - timedelta(days=ret.events_days)
        keep: set[int] = set()
        try:
            from amparo.store.tables_review import CaseItemRow

            keep = {i for i in s.scalars(select(CaseItemRow.event_id).where(CaseItemRow.event_id.is_not(None)))}
        except ImportError:
            pass
        old = [i for i in s.scalars(select(EventRow.id).where(EventRow.created_at < cutoff)) if i not in keep]
        for k in range(0, len(old), 500):
            s.execute(delete(EventRow).where(EventRow.id.in_(old[k : k + 500])))
        out["events_deleted"] = len(old)
        res = s.execute(delete(AccountAttemptRow).where(AccountAttemptRow.created_at < cutoff))
        out["attempts_deleted"] = int(getattr(res, "rowcount", 0) or 0)
        if service.vault is not None:
            out["evidence_deleted"] = len(service.vault.apply_retention(s, now=now))
    try:
        ledger_mod = importlib.import_module("amparo.proxy.ledger")
    except ModuleNotFoundError:
        ledger_mod = None
    if ledger_mod is not None:
        out["generations_deleted"] = ledger_mod.GenerationLedger.for_service(service).purge_expired(now=now)
    return out
