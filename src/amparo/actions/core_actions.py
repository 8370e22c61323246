"""Built-in actions that need only the core store: per-account attempts and queued legal reports."""

from __future__ import annotations

from typing import Any

from amparo.actions.base import ActionContext, ActionRegistry, FunctionAction
from amparo.store import events_repo
from amparo.store.tables_events import LegalReportRow

# Request labels whose attempts are counted against the account.
ATTEMPT_LABELS = ("csam_request", "nudify_request", "sexual_deepfake_request")


def record_attempt(ctx: ActionContext) -> dict[str, Any] | None:
    account = ctx.item.context.account
    if not account:
        return {"recorded": [], "note": "no account in the request context"}
    recorded = [lbl for lbl in ctx.verdict.labels if lbl in ATTEMPT_LABELS]
    for label in recorded:
        events_repo.record_attempt(ctx.session, account=account, label=label, item_id=ctx.item.id)
    return {"recorded": recorded}


def make_report_action(report_to: list[str]) -> FunctionAction:
    """Queue a legal report per target of the jurisdiction profile (default: NCMEC for CSAM)."""

    def queue_report(ctx: ActionContext) -> dict[str, Any]:
        targets = report_to or ["ncmec"]
        ids = []
        for target in targets:
            row = LegalReportRow(
                event_id=ctx.event_id,
                target=target,
                status="queued",
                labels=list(ctx.verdict.labels),
                payload={
                    "item_id": ctx.item.id,
                    "account": ctx.item.context.account,
                    "file_viewed_by_esp": False,  # automated hit: nobody viewed it (US v. Wilson)
                    "hashes": {s.type: s.value for s in ctx.verdict.signals},
                    "rule": ctx.verdict.rule,
                },
            )
            ctx.session.add(row)
            ctx.session.flush()
            ids.append(row.id)
        return {"report_ids": ids, "targets": targets}

    return FunctionAction("report", queue_report)


def register_core_actions(registry: ActionRegistry, *, report_to: list[str]) -> None:
    registry.register(FunctionAction("record_attempt", record_attempt))
    registry.register(make_report_action(report_to))
