"""dlib's face descriptor network as a voter on the minor decision (not on the age itself).

The network (a 29-layer ResNet, 150x150 aligned chip -> 128 numbers) was trained by Davis King to
tell people apart; he released it into the public domain (dlib-models README). About half of its
~3 million training faces came from the VGG Face and FaceScrub research sets, the rest were
scraped (docs/detectors.md says so for deployers). It ships in the `face_recognition_models`
package (MIT packaging, CC0 models); we read its file (sha256 pinned) and run it through our own
ONNX conversion (`dlib_dnn.py`, ~6 ms a face on one thread against ~120 ms in dlib).

Faces of children, teenagers and adults fall in different regions of that space, so a small
logistic head (age_minor_head.py) on the descriptor plus the age network's own minor mass
separates minors from adults better than the age network alone (bench/results/ages.md).

The descriptor identifies a person: it is used inside the stage and dropped there. It never
appears in a verdict, a log, the store or a response.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from amparo.errors import DetectorFailed
from amparo.signals.classifiers.single_thread import check_sha256, onnx_session

DESCRIPTOR_MODEL_NAME = "dlib-face-descriptor-v1"
DESCRIPTOR_FILE = "dlib_face_recognition_resnet_model_v1.dat"
# Pinned digest (face_recognition_models 0.3.0): a different file is a different model.
DESCRIPTOR_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
CHIP_SIZE = 150
CHIP_PADDING = 0.25  # dlib's own default for this network


def bundled_descriptor_path() -> Path | None:
    """The model file inside the installed face_recognition_models package, found without
    importing it (its __init__ imports pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / DESCRIPTOR_FILE
    return path if path.is_file() else None


def descriptor_available() -> bool:
    return bundled_descriptor_path() is not None and importlib.util.find_spec("onnx") is not None


class FaceDescriptor:
    """`describe(rgb, shape)` -> 128 numbers for a face given its dlib 5-point landmarks."""

    name = DESCRIPTOR_MODEL_NAME

    def __init__(self, model_path: Path | None = None) -> None:
        self._path = model_path
        self._session: Any = None
        self._means = np.zeros(3, dtype=np.float32)
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            path = self._path or bundled_descriptor_path()
            if path is None:
                raise DetectorFailed(
                    "face descriptor: the 'face_recognition_models' package (which ships the model) "
                    "is not installed; install amparo[detectors]"
                )
            check_sha256(path, DESCRIPTOR_SHA256, what="face descriptor")
            try:
                from amparo.signals.classifiers.dlib_dnn import read_dlib_net, to_onnx

                net = read_dlib_net(path.read_bytes())
                model = to_onnx(net)
            except ImportError as e:
                raise DetectorFailed(f"face descriptor: onnx is not installed ({e})") from None
            if net.input_size != CHIP_SIZE:
                raise DetectorFailed(f"face descriptor: expected a {CHIP_SIZE} px input, got {net.input_size}")
            self._means = np.array(net.means, dtype=np.float32)
            self._session = onnx_session(model, what="face descriptor")

    def describe(self, rgb: np.ndarray, shape: Any) -> np.ndarray:
        """`shape`: dlib's full_object_detection of the face (5-point landmarks)."""
        if self._session is None:
            self.load()
        import dlib

        chip = np.asarray(dlib.extract_image_chip(rgb, dlib.get_face_chip_details(shape, CHIP_SIZE, CHIP_PADDING)))
        x = ((chip.astype(np.float32) - self._means) / np.float32(256.0)).transpose(2, 0, 1)[None]
        (out,) = self._session.run(None, {"images": np.ascontiguousarray(x)})
        return np.asarray(out, dtype=np.float64).reshape(-1)
