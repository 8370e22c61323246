"""Case priority from labels: known CSAM first, then suspected minors, then NCII/deepfakes."""

from __future__ import annotations

from collections.abc import Iterable

LABEL_PRIORITY = {
    "csam_known": 100,
    "csam_suspected": 90,
    "age_unsure": 80,  # nudity with a face that may be a minor: before deepfakes, after suspected CSAM
    "sexual_deepfake": 70,
    "ncii_known": 70,
    "csam_request": 50,
    "age_unverified": 40,  # nudity with no face to judge an age from
}
DEFAULT_PRIORITY = 30
ESCALATION_BONUS = 5


def priority_for(labels: Iterable[str]) -> int:
    return max(
        (LABEL_PRIORITY.get(label, DEFAULT_PRIORITY) for label in labels), default=DEFAULT_PRIORITY
    )


def priority_name(priority: int) -> str:
    if priority >= 100:
        return "critical"
    if priority >= 90:
        return "urgent"
    if priority >= 70:
        return "high"
    if priority >= 50:
        return "elevated"
    return "normal"
