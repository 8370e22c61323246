"""Action "open_case": open a review case for the item, with the verdict's reasons."""

from __future__ import annotations

import hashlib
from typing import Any

from amparo.actions.base import ActionContext
from amparo.cases.workflow import CaseItemInput, CaseService
from amparo.pipeline_video import video_case_signal
from amparo.store import evidence_repo, review_repo
from amparo.store.tables_review import CaseItemRow

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
        same = _open_case_for_same_item(ctx, ref)
        if same is not None:  # a repeat of an item already under review joins that case
            review_repo.insert_case_item(
                ctx.session,
                row=CaseItemRow(
                    case_id=same.id,
                    item_id=item.id,
                    event_id=ctx.event_id,
                    evidence_ref=ref or _kept_ref(ctx),
                    kind=str(item.kind),
                    signals=[s.to_dict() for s in verdict.signals] + video_case_signal(verdict),
                    matches=[m.to_dict() for m in verdict.matches],
                    classifications=[c.to_dict() for c in verdict.classifications],
                    text_excerpt=item.text[:500] if item.text else None,
                ),
            )
            return {"case_id": same.id, "priority": same.priority, "existing": True}
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
                    signals=[s.to_dict() for s in verdict.signals] + video_case_signal(verdict),
                    matches=[m.to_dict() for m in verdict.matches],
                    classifications=[c.to_dict() for c in verdict.classifications],
                    text_excerpt=item.text[:500] if item.text else None,
                )
            ],
        )
        return {"case_id": case.id, "priority": case.priority}


def _kept_ref(ctx: ActionContext) -> str | None:
    data = ctx.item.image if ctx.item.image is not None else (ctx.item.text or "").encode("utf-8")
    if not data:
        return None
    kept = evidence_repo.find_by_sha256(ctx.session, sha256=hashlib.sha256(data).hexdigest())
    return kept.ref if kept is not None else None


def _open_case_for_same_item(ctx: ActionContext, ref: str | None) -> Any:
    ref = ref or _kept_ref(ctx)
    if ref is None:
        return None
    return review_repo.find_open_case_for_evidence(ctx.session, evidence_ref=ref, account=ctx.item.context.account)


def _title(labels: list[str], surface: str | None) -> str:
    what = ", ".join(labels) if labels else "review"
    return f"{what} ({surface})" if surface else what
