"""Dashboard and transparency figures: queue size, time to decision, decisions by label,
appeals by outcome with their times (DSA transparency reports need the last two)."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from amparo.store import review_repo
from amparo.store.evidence_repo import as_utc


@dataclass
class ReviewStats:
    queue_size: int
    escalated: int
    decided: int
    median_hours_to_decision: float | None
    p90_hours_to_decision: float | None
    decisions_by_label: dict[str, int]
    appeals_open: int
    appeals_by_outcome: dict[str, int]
    median_hours_to_appeal_decision: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hours(pairs: list[tuple[Any, Any]]) -> list[float]:
    return [(as_utc(b) - as_utc(a)).total_seconds() / 3600 for a, b in pairs if a and b]


def _p(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


def review_stats(session: Session) -> ReviewStats:
    states = review_repo.count_by_state(session)
    times = _hours(review_repo.decided_case_times(session))
    appeals = review_repo.appeal_outcomes(session)
    by_outcome: dict[str, int] = {}
    for outcome, _, _ in appeals:
        if outcome:
            by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
    appeal_times = _hours([(f, d) for _, f, d in appeals if d])
    return ReviewStats(
        queue_size=sum(states.get(s, 0) for s in review_repo.OPEN_STATES),
        escalated=states.get("escalated", 0),
        decided=states.get("decided", 0),
        median_hours_to_decision=round(statistics.median(times), 3) if times else None,
        p90_hours_to_decision=_p(times, 0.9),
        decisions_by_label=review_repo.decisions_by_label(session),
        appeals_open=sum(1 for o, _, d in appeals if d is None),
        appeals_by_outcome=by_outcome,
        median_hours_to_appeal_decision=round(statistics.median(appeal_times), 3)
        if appeal_times
        else None,
    )
