"""The minor head: a logistic regression that turns the age network's minor mass and the face
descriptor (face_descriptor.py) into one raw p_minor, which the calibration then maps as before.

Inputs per face, in this order: logit of the blurred mass under 18 (the stage's former raw
p_minor), logit of the plain mass under 18 of the age distribution, and the 128 descriptor
values. Each is standardised with the mean and scale of the faces it was fitted on.

Fitted by `amparo eval ages FILE --fit-calibration OUT.json` on a labelled split (minor or adult
faces), with an L2 penalty; the raw p_minor the calibration is then fitted on comes from
grouped cross-validation (each face scored by a head that never saw that person), so the
calibration is not fitted on the head's own training scores. The penalty (c = 0.03) was chosen
by that same cross-validation on the calibration half (bench/results/ages.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from amparo.errors import ConfigurationError
from amparo.signals.classifiers.logistic import logit, newton_logistic, sigmoid

HEAD_C = 0.03
HEAD_FOLDS = 5


def head_features(raw: float, mass: float, descriptor: np.ndarray) -> np.ndarray:
    return np.concatenate([logit(np.array([raw, mass])), np.asarray(descriptor, dtype=np.float64).reshape(-1)])


@dataclass(frozen=True)
class MinorHead:
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    c: float = HEAD_C

    def __post_init__(self) -> None:
        if not (len(self.mean) == len(self.scale) == len(self.weights)) or not self.weights:
            raise ConfigurationError("minor head: mean, scale and weights need the same length")
        if any(s <= 0 for s in self.scale):
            raise ConfigurationError("minor head: scales must be positive")

    def probability(self, features: np.ndarray) -> float:
        x = np.asarray(features, dtype=np.float64)
        if x.shape != (len(self.weights),):
            raise ConfigurationError(f"minor head: expected {len(self.weights)} inputs, got {x.shape}")
        z = (x - np.array(self.mean)) / np.array(self.scale)
        return float(sigmoid(np.array(z @ np.array(self.weights) + self.bias)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": "logit raw mass, logit plain mass, descriptor[128]",
            "c": self.c,
            "bias": round(self.bias, 6),
            "mean": [round(v, 6) for v in self.mean],
            "scale": [round(v, 6) for v in self.scale],
            "weights": [round(v, 6) for v in self.weights],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MinorHead:
        try:
            return cls(
                mean=tuple(float(v) for v in d["mean"]),
                scale=tuple(float(v) for v in d["scale"]),
                weights=tuple(float(v) for v in d["weights"]),
                bias=float(d["bias"]),
                c=float(d.get("c", HEAD_C)),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigurationError(f"minor head: malformed ({e})") from None


def _fit(x: np.ndarray, y: np.ndarray, c: float, iterations: int = 100) -> MinorHead:
    """L2-penalised logistic regression (penalty |w|^2 / 2c, intercept free) by Newton's method."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = np.column_stack([(x - mean) / scale, np.ones(len(x))])
    ridge = np.full(z.shape[1], 1.0 / c)
    ridge[-1] = 0.0
    w = newton_logistic(z, y, ridge, jitter=1e-9, iterations=iterations, tolerance=1e-8)
    return MinorHead(tuple(mean.tolist()), tuple(scale.tolist()), tuple(w[:-1].tolist()), float(w[-1]), c)


def _fold(group: str, folds: int) -> int:
    return int(hashlib.sha256(group.encode()).hexdigest(), 16) % folds


def fit_minor_head(
    features: Sequence[np.ndarray], is_minor: Sequence[bool], groups: Sequence[str], *, c: float = HEAD_C
) -> tuple[MinorHead, list[float]]:
    """The head fitted on every face, and each face's probability from the head fitted without
    its group (grouped cross-validation: a person's other photos never score them)."""
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(is_minor, dtype=np.float64)
    if len(x) < 40 or len(set(is_minor)) < 2:
        raise ValueError("the minor head needs at least 40 faces, minors and adults both")
    fold = np.array([_fold(g, HEAD_FOLDS) for g in groups])
    held_out = np.zeros(len(x))
    for k in range(HEAD_FOLDS):
        test = fold == k
        if not test.any():
            continue
        if len(set(y[~test])) < 2:
            raise ValueError("a cross-validation fold has only minors or only adults")
        head = _fit(x[~test], y[~test], c)
        held_out[test] = [head.probability(row) for row in x[test]]
    return _fit(x, y, c), held_out.tolist()
