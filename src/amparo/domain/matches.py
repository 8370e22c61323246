"""A hash bank hit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The bank source of hashes people submit of themselves on /protect (amparo.protect).
SELF_SUBMITTED_SOURCE = "self-submitted"


@dataclass(frozen=True)
class Match:
    bank: str
    bank_category: str  # "csam" | "ncii" | "other"
    entry_id: int
    signal_type: str
    distance: int
    opinion: str = "positive"  # positive | negative | disputed
    threshold: int = 0
    negative_bank: bool = False  # a "safe" bank: suppresses false positives
    # A video match: both shares, the matched time ranges on each side (matching/video_matcher.py).
    video: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    # The bank holds hashes people submitted of themselves (/protect): unverified by anyone, so
    # policy never treats such a match as verified material (docs/protect.md).
    self_submitted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "category": self.bank_category,
            "entry_id": self.entry_id,
            "signal_type": self.signal_type,
            "distance": self.distance,
            "threshold": self.threshold,
            "opinion": self.opinion,
            "negative_bank": self.negative_bank,
        } | ({"video": self.video} if self.video is not None else {}) | (
            {"self_submitted": True} if self.self_submitted else {}
        )
