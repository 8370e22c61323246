"""The pipeline's answer: a decision with the reasons that made it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from amparo.domain.matches import Match
from amparo.domain.signals import Classification, Signal


class Decision(StrEnum):
    ALLOW = "allow"
    LABEL = "label"
    AGE_RESTRICT = "age_restrict"
    REFUSE = "refuse"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {
    Decision.ALLOW: 0,
    Decision.LABEL: 1,
    Decision.AGE_RESTRICT: 2,
    Decision.REFUSE: 3,
    Decision.BLOCK: 4,
}


@dataclass(frozen=True)
class Reason:
    """Why a rule fired: the rule id, the label it assigns, and the evidence it read."""

    rule: str
    label: str | None
    decision: Decision
    description: str
    evidence: tuple[tuple[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "label": self.label,
            "decision": self.decision.value,
            "description": self.description,
            "evidence": {k: v for k, v in self.evidence},
        }


@dataclass(frozen=True)
class StageRun:
    """One cascade stage: whether it ran, why not, how long it took."""

    name: str
    ran: bool
    elapsed_ms: float = 0.0
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"stage": self.name, "ran": self.ran, "elapsed_ms": round(self.elapsed_ms, 3)}
        if self.note:
            d["note"] = self.note
        return d


@dataclass(frozen=True)
class Verdict:
    item_id: str
    decision: Decision
    labels: tuple[str, ...]
    reasons: tuple[Reason, ...]
    actions: tuple[str, ...] = ()
    signals: tuple[Signal, ...] = ()
    matches: tuple[Match, ...] = ()
    classifications: tuple[Classification, ...] = ()
    stages: tuple[StageRun, ...] = ()
    policy: str = "default"
    profile: str | None = None
    errors: tuple[str, ...] = ()
    event_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rule(self) -> str | None:
        """The rule that decided (the first reason with the verdict's decision)."""
        for r in self.reasons:
            if r.decision == self.decision:
                return r.rule
        return None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "item_id": self.item_id,
            "decision": self.decision.value,
            "labels": list(self.labels),
            "rule": self.rule,
            "reasons": [r.to_dict() for r in self.reasons],
            "actions": list(self.actions),
            "signals": [s.to_dict() for s in self.signals],
            "matches": [m.to_dict() for m in self.matches],
            "classifications": [c.to_dict() for c in self.classifications],
            "stages": [s.to_dict() for s in self.stages],
            "policy": self.policy,
            "profile": self.profile,
        }
        if self.errors:
            d["errors"] = list(self.errors)
        if self.event_id is not None:
            d["event_id"] = self.event_id
        d.update(self.extra)
        return d
