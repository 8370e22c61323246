"""Action "open_case": open a review case for the item, with the verdict's reasons."""

from __future__ import annotations

from typing import Any

from amparo.actions.base import ActionContext
from amparo.cases.workflow import CaseItemInput, CaseService
from amparo.store import review_repo

NAME = "open_case"


class OpenCaseAction:
    name = NAME

    def __init__(self, cases: CaseService) -> None:
        self.cases = cases

    def run(self, ctx: ActionContext) -> dict[str, Any] | None:
        existing = review_repo.find_case_by_event(ctx.session, event_id=ctx.event_id)
        if existing is not None:  # the same event never opens two cases
            return {"case_id": existing.id, "priority": existing.priority, "existing": True}
        verdict = ctx.verdict
        quarantined = ctx.results.get("quarantine")
        ref = quarantined.get("evidence_ref") if isinstance(quarantined, dict) else None
        item = ctx.item
        labels = list(verdict.labels)
        case = self.cases.open_case(
            ctx.session,
            labels=labels,
            reasons=[r.to_dict() for r in verdict.reasons],
            title=_title(labels, item.context.surface),
            source="policy",
            account=item.context.account,
            event_id=ctx.event_id,
            items=[
                CaseItemInput(
                    item_id=item.id,
                    event_id=ctx.event_id,
                    evidence_ref=ref,
                    kind=str(item.kind),
                    signals=[s.to_dict() for s in verdict.signals],
                    matches=[m.to_dict() for m in verdict.matches],
                    classifications=[c.to_dict() for c in verdict.classifications],
                    text_excerpt=item.text[:500] if item.text else None,
                )
            ],
        )
        return {"case_id": case.id, "priority": case.priority}


def _title(labels: list[str], surface: str | None) -> str:
    what = ", ".join(labels) if labels else "review"
    return f"{what} ({surface})" if surface else what
