"""Synthetic decisions through the event store (no content: verdicts only, as the pipeline records them)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from amparo.domain.items import Context, Item, ItemKind
from amparo.domain.matches import Match
from amparo.domain.signals import Classification
from amparo.domain.verdicts import Decision, Reason, Verdict
from amparo.store import events_repo
from amparo.store.tables_events import EventRow

LABELS = (
    "csam_known",
    "csam_suspected",
    "csam_request",
    "ncii_known",
    "sexual_deepfake",
    "nudify_request",
    "adult_explicit",
    "minor_present",
    "ai_generated",
    "hash_match",
    "detector_failure",
)
DECISIONS = ("block", "refuse", "age_restrict", "label", "allow")
KINDS = (ItemKind.IMAGE, ItemKind.PROMPT, ItemKind.EDIT_REQUEST, ItemKind.GENERATED_IMAGE)


def make_verdict(item: Item, decision: str, labels: list[str], *, matched: bool, profile: str) -> Verdict:
    matches: tuple[Any, ...] = ()
    if matched:
        matches = (Match(bank="b", bank_category="csam", entry_id=1, signal_type="pdq", distance=0),)
    stage = "prompt" if item.kind in (ItemKind.PROMPT, ItemKind.EDIT_REQUEST) else "nudity"
    cls = (Classification(detector=f"standin.{stage}", stage=stage, scores={"x": 0.9}),)
    return Verdict(
        item_id=item.id,
        decision=Decision(decision),
        labels=tuple(labels),
        reasons=(
            Reason(
                rule="synthetic",
                label=labels[0] if labels else None,
                decision=Decision(decision),
                description="synthetic",
            ),
        ),
        matches=matches,
        classifications=() if matched else cls,
        profile=profile,
    )


def add_event(
    session: Any,
    *,
    decision: str,
    labels: list[str],
    kind: ItemKind = ItemKind.IMAGE,
    matched: bool = False,
    profile: str = "eu-es",
    account: str = "acct-1",
    surface: str = "upload",
    at: datetime | None = None,
) -> int:
    item = Item(kind=kind, context=Context(account=account, surface=surface, jurisdiction=profile))
    eid = events_repo.record_event(
        session, item=item, verdict=make_verdict(item, decision, labels, matched=matched, profile=profile)
    )
    if at is not None:
        session.get(EventRow, eid).created_at = at
        session.flush()
    return eid


def year_of_events(session: Any, *, n: int, seed: int = 7, start: datetime | None = None) -> list[int]:
    rng = random.Random(seed)
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    ids = []
    for _ in range(n):
        at = start + timedelta(seconds=rng.randrange(365 * 86400))
        ids.append(
            add_event(
                session,
                decision=rng.choice(DECISIONS),
                labels=[rng.choice(LABELS)],
                kind=rng.choice(KINDS),
                matched=rng.random() < 0.2,
                profile=rng.choice(("eu-es", "eu-es", "us")),
                account=f"acct-{rng.randrange(500)}",
                surface=rng.choice(("upload", "generation", "edit")),
                at=at,
            )
        )
    return ids
