"""The face descriptor (dlib's network through our own ONNX conversion) and the minor head that
reads it. Faces are benign sample photos; labels in the head tests are synthetic numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from amparo.errors import ConfigurationError, DetectorFailed
from amparo.evaluation.ages import roc_auc
from amparo.signals.classifiers.age_calibration import AgeCalibration
from amparo.signals.classifiers.age_estimation import DlibAgeEstimator
from amparo.signals.classifiers.age_minor_head import MinorHead, fit_minor_head
from amparo.signals.classifiers.dlib_dnn import DlibFormatError, read_dlib_net
from amparo.signals.classifiers.face_descriptor import FaceDescriptor, bundled_descriptor_path
from amparo.signals.classifiers.face_detection import LibFaceDetector

from .sample_images import skimage_rgb

dlib = pytest.importorskip("dlib")
MODEL = bundled_descriptor_path()
pytestmark = pytest.mark.skipif(MODEL is None, reason="face_recognition_models is not installed")


def _astronaut_face() -> tuple[np.ndarray, object]:
    rgb = skimage_rgb("astronaut")
    det = LibFaceDetector()
    (box,) = det.detect(rgb)
    est = DlibAgeEstimator(descriptor=False)
    est.load()
    shape = est._predictor(rgb, dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1))
    return rgb, shape


def test_onnx_conversion_gives_dlibs_own_descriptor() -> None:
    rgb, shape = _astronaut_face()
    ours = FaceDescriptor().describe(rgb, shape)
    theirs = np.array(dlib.face_recognition_model_v1(str(MODEL)).compute_face_descriptor(rgb, shape, 0, 0.25))
    assert ours.shape == (128,) and np.abs(ours - theirs).max() < 1e-4
    assert 0.5 < np.linalg.norm(ours) < 2.0


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    changed = tmp_path / MODEL.name  # type: ignore[union-attr]
    shutil.copy(MODEL, changed)  # type: ignore[arg-type]
    with changed.open("r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 1]))
    with pytest.raises(DetectorFailed, match="sha256"):
        FaceDescriptor(changed).load()
    with pytest.raises(DlibFormatError):
        read_dlib_net(b"not a dlib network" * 10)


def test_a_head_calibration_needs_the_descriptor() -> None:
    with pytest.raises(ConfigurationError, match="face descriptor"):
        DlibAgeEstimator(calibration=AgeCalibration.load(), descriptor=False)
    alone = DlibAgeEstimator(descriptor=False)
    assert alone.models == ("dlib-age-v1",) and alone.calibration.minor_head is None
    assert DlibAgeEstimator().models == ("dlib-age-v1", "dlib-face-descriptor-v1")


def test_minor_head_learns_a_signal_and_scores_each_person_unseen() -> None:
    rng = np.random.default_rng(7)
    # 200 "people", 3 photos each; the label follows the first two inputs
    people = rng.normal(size=(200, 130))
    minor = people[:, 0] + people[:, 1] > 0
    x = np.repeat(people, 3, axis=0) + rng.normal(scale=0.1, size=(600, 130))
    y = np.repeat(minor, 3)
    groups = [f"p{i // 3}" for i in range(600)]
    head, held_out = fit_minor_head(list(x), list(y), groups)
    auc = roc_auc(held_out, list(y))
    assert auc is not None and auc > 0.72  # 130 inputs, 480 training faces a fold: a weak signal
    assert head.probability(x[0]) == pytest.approx(head.probability(x[0]))
    assert MinorHead.from_dict(head.to_dict()).probability(x[0]) == pytest.approx(head.probability(x[0]), abs=1e-4)
    # labels that follow nothing but the person: a person's other photos must never score them,
    # or the held-out scores would look perfect
    noise = np.repeat(rng.uniform(size=200) < 0.5, 3)
    _, held = fit_minor_head(list(x), list(noise), groups)
    auc = roc_auc(held, list(noise))
    assert auc is not None and auc < 0.6
    _, leaky = fit_minor_head(list(x), list(noise), [str(i) for i in range(600)])  # photos apart
    auc = roc_auc(leaky, list(noise))
    assert auc is not None and auc > 0.7
    with pytest.raises(ConfigurationError, match="inputs"):
        head.probability(np.zeros(5))
    with pytest.raises(ValueError, match="40 faces"):
        fit_minor_head(list(x[:10]), list(y[:10]), groups[:10])
