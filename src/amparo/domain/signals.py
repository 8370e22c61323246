"""Signals computed from an item: hashes and classifications."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Signal:
    """A hash of the content. `type` is a signal type's stable name (e.g. "pdq", "sha256")."""

    type: str
    value: str
    quality: int | None = None  # PDQ quality 0..100; None where meaningless
    # False for a lookup-only value (PDQ's fast reduced decode), never stored as a hash of record.
    exact: bool = True

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type, "value": self.value}
        if self.quality is not None:
            d["quality"] = self.quality
        if not self.exact:
            d["exact"] = False
        return d


@dataclass(frozen=True)
class Classification:
    """Output of one detector: scores per label plus structured details.

    `error` is set when the detector failed; the policy then applies its fail-closed setting.
    """

    detector: str
    scores: Mapping[str, float] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    elapsed_ms: float = 0.0
    stage: str = ""  # cascade stage; the pipeline fills it from the registry when a detector leaves it empty

    def score(self, label: str, default: float = 0.0) -> float:
        return float(self.scores.get(label, default))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "detector": self.detector,
            "stage": self.stage,
            "scores": {k: round(float(v), 6) for k, v in self.scores.items()},
            "details": dict(self.details),
            "elapsed_ms": round(self.elapsed_ms, 3),
        }
        if self.error:
            d["error"] = self.error
        return d
