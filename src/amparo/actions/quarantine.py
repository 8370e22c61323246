"""Action "quarantine": preserve the item in the evidence vault, in the event's transaction."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from amparo.actions.base import ActionContext
from amparo.audit import names
from amparo.evidence.retention import profile_for
from amparo.evidence.vault import Vault
from amparo.pipeline_video import video_case_summary
from amparo.store import evidence_repo, review_repo

NAME = "quarantine"
REPORTED_LABELS = ("csam_known",)  # the default policy queues a report for these at once


class QuarantineAction:
    name = NAME

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def run(self, ctx: ActionContext) -> dict[str, Any] | None:
        item = ctx.item
        if item.image is not None:
            data, media_type = item.image, None
        elif item.text:
            data, media_type = item.text.encode("utf-8"), "text/plain; charset=utf-8"
        else:
            return None
        verdict = ctx.verdict
        reported = "report" in verdict.actions or any(
            lb in REPORTED_LABELS for lb in verdict.labels
        )
        # The same bytes already kept: one copy, not another (a re-check or a re-upload).
        row = evidence_repo.find_by_sha256(ctx.session, sha256=hashlib.sha256(data).hexdigest())
        reused = row is not None
        if row is not None:
            if reported and not row.reported:
                self.vault.mark_reported(
                    ctx.session, ref=row.ref, actor=names.SYSTEM_ACTOR, actor_role=names.SYSTEM_ROLE
                )
            else:
                self._keep_for_sighting(ctx, row, verdict.profile or item.context.jurisdiction)
        else:
            row = self.vault.capture(
                ctx.session,
                data=data,
                media_type=media_type,
                item_id=item.id,
                event_id=ctx.event_id,
                profile=verdict.profile or item.context.jurisdiction,
                reported=reported,
                metadata={
                    "kind": str(item.kind),
                    "context": item.context.to_dict(),
                    "decision": verdict.decision.value,
                    "labels": list(verdict.labels),
                    "rule": verdict.rule,
                    "event_id": ctx.event_id,
                    **({"video": video} if (video := video_case_summary(verdict)) else {}),
                },
            )
        # If the policy listed open_case first, attach the evidence to that case now.
        opened = ctx.results.get("open_case")
        if isinstance(opened, dict) and opened.get("case_id"):
            case_id = int(opened["case_id"])
            if not reused:
                self.vault.link_case(ctx.session, ref=row.ref, case_id=case_id)
            review_repo.set_case_item_evidence(
                ctx.session, case_id=case_id, item_id=item.id, evidence_ref=row.ref
            )
        out: dict[str, Any] = {
            "evidence_ref": row.ref,
            "sha256": row.sha256,
            "retain_until": row.retain_until.isoformat(),
        }
        return {**out, "existing": True} if reused else out

    def _keep_for_sighting(self, ctx: ActionContext, row: Any, profile: str | None) -> None:
        """A new sighting keeps the item as long as a fresh capture would have been kept (recorded)."""
        retention = profile_for(profile or row.profile, self.vault.retention)
        until = evidence_repo.as_utc(retention.retain_until(start=datetime.now(UTC), reported=bool(row.reported)))
        if until <= evidence_repo.as_utc(row.retain_until):
            return
        evidence_repo.extend_retention(ctx.session, ref=row.ref, retain_until=until)
        self.vault.audit.record(
            ctx.session,
            action=names.EVIDENCE_RETENTION,
            subject_type="evidence",
            subject_id=row.ref,
            actor=names.SYSTEM_ACTOR,
            actor_role=names.SYSTEM_ROLE,
            details={"seen_again": True, "event_id": ctx.event_id, "retain_until": until.isoformat()},
        )
