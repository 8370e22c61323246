"""Compare age read-outs dumped by bench/ages_explore.py: fit on `calibrate`, report on `evaluate`.

Each candidate turns a face's distributions into (age, p_minor score). Ranking figures (ROC-AUC,
false minor at fixed recall) do not change under a monotone calibration, so candidates differ
by TTA, crop, model and how models are combined. A stacked candidate (logistic regression on
both models' logit p_minor and ages) and an age remap (isotonic regression of true on estimated
age, on exact ages) are fitted on the calibration half only.

Usage: python bench/ages_select.py DUMP.npz [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from amparo.evaluation.ages import roc_auc, threshold_for_recall
from amparo.signals.classifiers.age_calibration import isotonic_fit

DLIB_AGES = np.r_[0.25, np.arange(1, 81)].astype(np.float64)
AG_AGES = np.arange(101, dtype=np.float64)
PADS = (0.0, 0.1, 0.2, 0.3)


def _cdf(x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * (1.0 + erf(x / math.sqrt(2.0)))


def mass_under_18(p: np.ndarray, ages: np.ndarray) -> np.ndarray:
    """As age_estimation.summarise: each class blurred by the model's error floor (3 + 0.1 age)."""
    floor = 3.0 + 0.1 * ages
    return np.clip(p @ _cdf((17.5 - ages) / floor), 1e-6, 1 - 1e-6)


def logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, iters: int = 100) -> np.ndarray:
    """Newton's method; x gets a constant column."""
    x1 = np.c_[x, np.ones(len(x))]
    w = np.zeros(x1.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(x1 @ w)))
        g = x1.T @ (p - y) + l2 * w
        hm = x1.T @ (x1 * (p * (1 - p))[:, None]) + l2 * np.eye(len(w))
        w -= np.linalg.solve(hm, g)
    return w


class Data:
    def __init__(self, path: Path) -> None:
        d = np.load(path, allow_pickle=False)
        self.low, self.high = d["low"].astype(float), d["high"].astype(float)
        self.source, self.split = d["source"].astype(str), d["split"].astype(str)
        self.ok = d["ok"].astype(bool)
        self.dlib = d["dlib"].astype(np.float64)  # N x 8 x 81: pads 0.0,0.1,0.2,0.3 x (plain, mirror)
        self.ag = d["agender"].astype(np.float64) if "agender" in d else None  # N x 2 x 101
        self.minor = np.where(self.high < 18, 1, np.where(self.low >= 18, 0, -1))
        self.exact = self.low == self.high
        self.cal = self.split == "calibrate"

    def dlib_dist(self, pads: tuple[float, ...], flip: bool = True) -> np.ndarray:
        idx = [2 * PADS.index(p) + k for p in pads for k in ((0, 1) if flip else (0,))]
        return self.dlib[:, idx].mean(axis=1)


def report(data: Data, age: np.ndarray, score: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    lab = data.minor[mask]
    s, a = score[mask], age[mask]
    lo, hi, ex = data.low[mask], data.high[mask], data.exact[mask]
    err = np.where(a < lo, a - lo, np.where(a > hi, a - hi, 0.0))
    known = lab >= 0
    young = (lab == 0) & np.where(ex, hi <= 25, hi <= 29)
    older = (lab == 0) & ~young
    u13 = hi < 13
    t95 = threshold_for_recall(list(s[lab == 1]), 0.95)
    t99 = threshold_for_recall(list(s[u13]), 0.99)
    teen = ex & (lo >= 13) & (lo <= 17)
    return {
        "n": int(mask.sum()),
        "auc": roc_auc(list(s[known]), list(lab[known] == 1)),
        "fm95_18_25": round(float((s[young] >= t95).mean()), 3),
        "fm95_26": round(float((s[older] >= t95).mean()), 3),
        "fm99u13_18_25": round(float((s[young] >= t99).mean()), 3),
        "mae": round(float(np.abs(err).mean()), 2),
        "mae_exact": round(float(np.abs(err[ex]).mean()), 2),
        "bias_13_17": round(float(err[teen].mean()), 2),
        "t95": t95,
        "t99u13": t99,
    }


def isotonic_age_map(est: np.ndarray, true: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    xs, ys = isotonic_fit(list(est), list(true))
    return lambda a: np.interp(a, xs, ys)


def candidates(data: Data) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, pads, flip in (
        ("dlib 0.1 + flip (shipped)", (0.1,), True),
        ("dlib 0.2 + flip (before)", (0.2,), True),
        ("dlib 0.1 no flip", (0.1,), False),
        ("dlib 0.0+0.1+0.2 + flip", (0.0, 0.1, 0.2), True),
        ("dlib 0.1+0.2 + flip", (0.1, 0.2), True),
        ("dlib 0.1+0.2 no flip (new default)", (0.1, 0.2), False),
        ("dlib 0.1+0.2+0.3 + flip", (0.1, 0.2, 0.3), True),
    ):
        p = data.dlib_dist(pads, flip)
        out[name] = (p @ DLIB_AGES, mass_under_18(p, DLIB_AGES))
    base = data.dlib_dist((0.1,), True)
    d_age, d_p = base @ DLIB_AGES, mass_under_18(base, DLIB_AGES)
    if data.ag is not None:
        ag = data.ag.mean(axis=1)
        a_age, a_p = ag @ AG_AGES, mass_under_18(ag, AG_AGES)
        out["agender 0.4 + flip"] = (a_age, a_p)
        out["average dlib + agender"] = ((d_age + a_age) / 2, (d_p + a_p) / 2)
        nf = data.dlib_dist((0.1, 0.2), False)
        ens_ages = np.r_[0.25, np.arange(1, 101)]
        for label, votes in (("mirrored", ag), ("one crop: ships", data.ag[:, 0])):
            mix = np.c_[nf, np.zeros((len(nf), 20))] / 2 + votes / 2
            out[f"dlib 0.1+0.2 no flip + agender {label}, one grid"] = (mix @ ens_ages, mass_under_18(mix, ens_ages))
        # stacked on the calibration half: logit p of each model
        x = np.c_[logit(d_p), logit(a_p)]
        k = data.cal & (data.minor >= 0)
        w = fit_logistic(x[k], (data.minor[k] == 1).astype(float))
        stacked = 1 / (1 + np.exp(-(np.c_[x, np.ones(len(x))] @ w)))
        out["stacked dlib + agender (fit on calibrate)"] = ((d_age + a_age) / 2, stacked)
    # the default model's age remapped (isotonic true-on-estimate, exact ages of the calibration half)
    k = data.cal & data.exact
    remap = isotonic_age_map(d_age[k], data.low[k])
    out["dlib 0.1 + flip, age remapped"] = (remap(d_age), d_p)
    x = np.c_[logit(d_p), d_age / 10.0]
    kk = data.cal & (data.minor >= 0)
    w = fit_logistic(x[kk], (data.minor[kk] == 1).astype(float))
    out["dlib 0.1 + flip, stacked p + age"] = (d_age, 1 / (1 + np.exp(-(np.c_[x, np.ones(len(x))] @ w))))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dump", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    data = Data(args.dump)
    res: dict[str, Any] = {}
    ev = ~data.cal
    print(f"faces: {len(data.low)}; calibrate {int(data.cal.sum())}, evaluate {int(ev.sum())}")
    print(
        f"{'candidate':48} {'set':4} {'AUC':>6} {'fm95 18-25':>10} {'fm95 26+':>8} {'fm99u13':>8}"
        f" {'MAE':>5} {'MAEx':>5} {'bias13-17':>9}"
    )
    for name, (age, score) in candidates(data).items():
        ff, fg = ev & (data.source == "fairface"), ev & (data.source == "fgnet")
        subsets = (("cal", data.cal), ("eval", ev), ("ff", ff), ("fg", fg))
        for tag, m in subsets:
            r = report(data, age, score, m)
            res.setdefault(name, {})[tag] = r
            print(
                f"{name[:48]:48} {tag:4} {r['auc']:6.3f} {r['fm95_18_25']:10.3f} {r['fm95_26']:8.3f}"
                f" {r['fm99u13_18_25']:8.3f} {r['mae']:5.2f} {r['mae_exact']:5.2f} {r['bias_13_17']:9.2f}"
            )
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
