"""Stand-in detectors for the positive paths (POLICY.md): they return chosen scores for given benign
images (by SHA-256 of the bytes), so no sexual imagery is ever needed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from amparo.content.images import DecodedImage
from amparo.domain.signals import Classification
from amparo.errors import DetectorFailed


@dataclass
class StandInDetector:
    name: str
    stage: str
    by_sha256: dict[str, Mapping[str, float]] = field(default_factory=dict)
    default: Mapping[str, float] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    fail: bool = False
    calls: int = 0

    def set(self, data: bytes, **scores: float) -> None:
        self.by_sha256[hashlib.sha256(data).hexdigest()] = scores

    def classify(self, image: DecodedImage, data: bytes) -> Classification:
        self.calls += 1
        if self.fail:
            raise DetectorFailed(f"{self.name}: model file missing (stand-in failure)")
        scores = self.by_sha256.get(hashlib.sha256(data).hexdigest(), self.default)
        return Classification(detector=self.name, stage=self.stage, scores=dict(scores), details=dict(self.details))


def install_standins(service) -> dict[str, StandInDetector]:  # type: ignore[no-untyped-def]
    """Replace the service's detectors by stand-ins for nudity, faces_age and provenance."""
    dets = {
        "nudity": StandInDetector("standin.nudity", "nudity", default={"nudity": 0.01}),
        "faces_age": StandInDetector("standin.faces_age", "faces_age", default={"faces": 0}),
        "provenance": StandInDetector("standin.provenance", "provenance", default={"ai_generated": 0.0}),
    }
    for name in list(service.detectors.names):
        service.detectors.unregister(name)
    for d in dets.values():
        service.detectors.register_instance(d)
    return dets
