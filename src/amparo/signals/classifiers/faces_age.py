"""The "faces_age" detector: every face, its apparent age with an uncertainty, and the youngest.

scores: faces (count), min_age (the lowest `age_low` over faces; absent when no face), minor
(0..1: the highest probability over faces that the face is under 18).
details: faces [{box, score, age, age_low, age_high}], face_detector, age_model, frames.
Animated images: the first frame and the decoder's sampled frames are all examined; faces is the
most found in one frame, min_age and minor the extremes over all frames.
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
FACES_AGE_STAGE = "faces_age"


class FacesAgeDetector:
    name = FACES_AGE_DETECTOR
    stage = FACES_AGE_STAGE

    def __init__(
        self,
        face_detector: LibFaceDetector | None = None,
        age_estimator: DlibAgeEstimator | None = None,
        *,
        max_faces: int = 32,
    ) -> None:
        self.face_detector = face_detector or LibFaceDetector()
        self.age_estimator = age_estimator or DlibAgeEstimator()
        self.max_faces = max_faces

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
        scores: dict[str, float] = {"faces": float(most_faces)}
        if faces_out:
            scores["min_age"] = min(f["age_low"] for f in faces_out)
            scores["minor"] = max(f["p_minor"] for f in faces_out)
        else:
            scores["minor"] = 0.0
        details: dict[str, Any] = {
            "faces": faces_out,
            "face_detector": self.face_detector.name,
            "age_model": self.age_estimator.name,
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
            out.append(
                {
                    "box": box.as_list(),
                    "score": box.score,
                    "age": est.age,
                    "age_low": est.age_low,
                    "age_high": est.age_high,
                    "p_minor": est.p_minor,
                }
            )
        return out, len(boxes) > self.max_faces
