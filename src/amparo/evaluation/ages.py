"""Measure the apparent-age stage on labelled portraits: `amparo eval ages FILE`.

Input: CSV with a header, or JSON Lines; columns `path` and `age`, where age is a whole age
("17"), a range ("20-29", as FairFace labels) or an open range ("70+"). Optional `source` (for
the per-source table) and `split` (select rows with `--split`). Paths are relative to the file.

Per image the labelled face is the one nearest the image centre (portrait sets are cropped
around it; a parent holding a baby would otherwise be taken for the baby). Figures (all on the faces found):
- MAE and bias per age bucket (0-12, 13-17, 18-25, 26-40, 41-60, 61+); ranged labels are grouped
  by their range, and their error is the distance to the range (0 inside it);
- ROC-AUC of p_minor, minor (range wholly under 18) against adult (wholly 18 and over);
- the thresholds keeping >= 95% and >= 99% recall of minors, and >= 99% recall of under-13s,
  with the share of young adults (18-25; ranged labels within 18-29) and of 26+ flagged;
- 80% interval coverage (exact ages: inside; ranges: the interval meets the range);
- a calibration table (p_minor bins against the observed share of minors);
- what the shipped rule does per group: minor / unsure / adult, and the old rule
  (interval lower bound under 18) for comparison.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from amparo.errors import BadInput

BUCKETS = ((0, 12), (13, 17), (18, 25), (26, 40), (41, 60), (61, 200))
OPEN_TOP = 120  # "70+" means 70..120


@dataclass(frozen=True)
class AgeLabel:
    path: str
    low: float
    high: float
    source: str = ""
    split: str = ""
    person: str = ""  # photos of one person share it (cross-validation keeps them together)

    @property
    def exact(self) -> bool:
        return self.low == self.high

    @property
    def is_minor(self) -> bool | None:
        """True when the whole range is under 18, False when wholly adult, None when it straddles."""
        if self.high < 18:
            return True
        if self.low >= 18:
            return False
        return None

    @property
    def group(self) -> str:
        """Exact ages: their bucket (0-12, 13-17, ...); ranged labels: the range itself (20-29, 70+)."""
        if not self.exact:
            return f"{self.low:g}+" if self.high >= OPEN_TOP else f"{self.low:g}-{self.high:g}"
        for lo, hi in BUCKETS:
            if lo <= self.low <= hi:
                return f"{lo}+" if hi >= 200 else f"{lo}-{hi}"
        return f"{self.low:g}"

    def error(self, estimate: float) -> float:
        """Signed distance from the estimate to the labelled range (0 inside it)."""
        if estimate < self.low:
            return estimate - self.low
        if estimate > self.high:
            return estimate - self.high
        return 0.0


def parse_age(value: str) -> tuple[float, float]:
    v = str(value).strip()
    try:
        if v.endswith("+"):
            return float(v[:-1]), float(OPEN_TOP)
        if "-" in v[1:]:
            lo, hi = v.split("-", 1)
            a, b = float(lo), float(hi)
        else:
            a = b = float(v)
    except ValueError:
        raise BadInput(f"age {value!r}: expected a number, a range such as 20-29, or 70+") from None
    if not (0 <= a <= b <= OPEN_TOP) or math.isnan(a):
        raise BadInput(f"age {value!r}: out of range 0..{OPEN_TOP}")
    return a, b


def read_age_labels(text: str, *, fmt: str, base: Path, split: str | None = None) -> list[AgeLabel]:
    rows: list[dict[str, Any]]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise BadInput(f"line {n}: not JSON ({e.msg})") from None
            if not isinstance(obj, dict):
                raise BadInput(f"line {n}: expected an object")
            rows.append(obj)
    out = []
    for n, row in enumerate(rows, 1):
        if not row.get("path") or row.get("age") in (None, ""):
            raise BadInput(f"row {n}: needs path and age")
        lo, hi = parse_age(str(row["age"]))
        p = Path(str(row["path"]))
        label = AgeLabel(
            str(p if p.is_absolute() else base / p),
            lo,
            hi,
            str(row.get("source") or ""),
            str(row.get("split") or ""),
            str(row.get("person") or ""),
        )
        if split is None or label.split == split:
            out.append(label)
    if not out:
        raise BadInput("no labelled rows" + (f" in split {split!r}" if split else ""))
    return out


@dataclass(frozen=True)
class FaceResult:
    label: AgeLabel
    age: float
    sigma: float
    age_low: float
    age_high: float
    p_minor: float
    p_minor_raw: float
    minor: bool | None
    quality_ok: bool


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """Mann-Whitney AUC with ties counted half."""
    pos = np.array([s for s, p in zip(scores, positive, strict=True) if p], dtype=np.float64)
    neg = np.array([s for s, p in zip(scores, positive, strict=True) if not p], dtype=np.float64)
    if not len(pos) or not len(neg):
        return None
    allv = np.concatenate([pos, neg])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv), dtype=np.float64)
    sorted_v = allv[order]
    i = 0
    while i < len(sorted_v):
        j = i
        while j + 1 < len(sorted_v) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2.0
    return round(float(u / (len(pos) * len(neg))), 4)


def threshold_for_recall(scores: Sequence[float], recall: float) -> float | None:
    """The highest threshold t such that the share of scores >= t is at least `recall`."""
    if not scores:
        return None
    s = sorted(scores, reverse=True)
    k = max(1, math.ceil(recall * len(s) - 1e-9))
    return float(s[k - 1])


def _young_adult(lab: AgeLabel) -> bool:
    return lab.low >= 18 and (lab.high <= 25 if lab.exact else lab.high <= 29)


def _flagged(rs: Iterable[FaceResult], t: float) -> float | None:
    rs = list(rs)
    return _ratio(sum(r.p_minor >= t for r in rs), len(rs))


def summarise(results: Sequence[FaceResult], *, no_face: int, minor_at: float, adult_below: float) -> dict[str, Any]:
    groups: dict[str, list[FaceResult]] = {}
    for r in results:
        groups.setdefault(r.label.group, []).append(r)

    def group_key(g: str) -> float:
        return float(g.split("-")[0].rstrip("+"))

    per_group = {}
    for g in sorted(groups, key=group_key):
        rs = groups[g]
        errs = [r.label.error(r.age) for r in rs]
        per_group[g] = {
            "n": len(rs),
            "mae": round(float(np.mean(np.abs(errs))), 2),
            "bias": round(float(np.mean(errs)), 2),
            "minor": _ratio(sum(r.minor is True for r in rs), len(rs)),
            "unsure": _ratio(sum(r.minor is None for r in rs), len(rs)),
            "adult": _ratio(sum(r.minor is False for r in rs), len(rs)),
            "old_rule_minor": _ratio(sum(r.age_low < 18 for r in rs), len(rs)),
            "quality_failed": _ratio(sum(not r.quality_ok for r in rs), len(rs)),
        }
    known = [r for r in results if r.label.is_minor is not None]
    minors = [r.p_minor for r in known if r.label.is_minor]
    under13 = [r.p_minor for r in known if r.label.high < 13]
    young = [r for r in known if _young_adult(r.label)]
    older = [r for r in known if r.label.low >= 26]
    operating = {}
    for name, pool, rec in (("minors_95", minors, 0.95), ("minors_99", minors, 0.99), ("under13_99", under13, 0.99)):
        t = threshold_for_recall(pool, rec)
        operating[name] = {
            "recall_target": rec,
            "n_positive": len(pool),
            "threshold": None if t is None else round(t, 4),
            "false_minor_18_25": None if t is None else _flagged(young, t),
            "n_18_25": len(young),
            "false_minor_26_plus": None if t is None else _flagged(older, t),
            "n_26_plus": len(older),
        }
    exact = [r for r in results if r.label.exact]
    ranged = [r for r in results if not r.label.exact]
    errs_all = [r.label.error(r.age) for r in results]
    bins = np.linspace(0.0, 1.0, 11)
    table = []
    for lo, hi in zip(bins[:-1], bins[1:], strict=True):
        rs = [r for r in known if lo <= r.p_minor < hi or (hi == 1.0 and r.p_minor == 1.0)]
        if rs:
            table.append(
                {
                    "p_minor": f"{lo:.1f}-{hi:.1f}",
                    "n": len(rs),
                    "mean_p": round(float(np.mean([r.p_minor for r in rs])), 3),
                    "observed_minor": _ratio(sum(bool(r.label.is_minor) for r in rs), len(rs)),
                }
            )
    return {
        "faces": len(results),
        "no_face": no_face,
        "mae": round(float(np.mean(np.abs(errs_all))), 2) if results else None,
        "groups": per_group,
        "auc_minor_vs_adult": roc_auc([r.p_minor for r in known], [bool(r.label.is_minor) for r in known]),
        "n_minor": len(minors),
        "n_adult": len(known) - len(minors),
        "operating_points": operating,
        "coverage_80": {
            "exact": _ratio(sum(r.age_low <= r.label.low <= r.age_high for r in exact), len(exact)),
            "n_exact": len(exact),
            "ranges_met": _ratio(
                sum(r.age_low <= r.label.high and r.age_high >= r.label.low for r in ranged), len(ranged)
            ),
            "n_ranges": len(ranged),
        },
        "calibration_table": table,
        "rule": {"minor_at": minor_at, "adult_below": adult_below},
    }


def per_source(results: Sequence[FaceResult], no_face: dict[str, int], **kw: float) -> dict[str, Any]:
    sources = sorted({r.label.source for r in results} | set(no_face))
    out = {"all": summarise(results, no_face=sum(no_face.values()), **kw)}
    if len(sources) > 1:
        for s in sources:
            out[s or "-"] = summarise([r for r in results if r.label.source == s], no_face=no_face.get(s, 0), **kw)
    return out


def run_age_eval(
    detector: Any, labels: Sequence[AgeLabel], *, features: list[np.ndarray] | None = None
) -> tuple[list[FaceResult], dict[str, int], list[dict[str, str]]]:
    """Run the faces/age detector on every labelled image; the face nearest the centre is the
    labelled one. `features`: filled with what a minor head reads for each result's face."""
    from amparo.content.images import decode_image
    from amparo.errors import AmparoError
    from amparo.signals.classifiers.face_detection import FaceBox

    results: list[FaceResult] = []
    no_face: dict[str, int] = {}
    errors: list[dict[str, str]] = []
    for lab in labels:
        try:
            data = Path(lab.path).read_bytes()
            img = decode_image(data)
            c = detector.classify(img, data)
        except (OSError, AmparoError) as e:
            errors.append({"path": lab.path, "error": str(e)})
            continue
        faces = c.details.get("faces") or []
        if not faces:
            no_face[lab.source] = no_face.get(lab.source, 0) + 1
            continue
        h, w = img.rgb.shape[:2]
        f = min(
            faces,
            key=lambda x: (
                ((x["box"][0] + x["box"][2]) / 2 - w / 2) ** 2 + ((x["box"][1] + x["box"][3]) / 2 - h / 2) ** 2
            ),
        )
        if features is not None:
            left, top, right, bottom = (int(v) for v in f["box"])
            box = FaceBox(left, top, right, bottom, float(f["score"]))
            features.append(detector.age_estimator.minor_features(img.rgb, box))
        results.append(
            FaceResult(
                label=lab,
                age=float(f["age"]),
                sigma=max(1e-6, (float(f["age_high"]) - float(f["age"])) / 1.2816),
                age_low=float(f["age_low"]),
                age_high=float(f["age_high"]),
                p_minor=float(f["p_minor"]),
                p_minor_raw=float(f.get("p_minor_raw", f["p_minor"])),
                minor=f.get("minor"),
                quality_ok=bool((f.get("quality") or {}).get("ok", True)),
            )
        )
    return results, no_face, errors


def fit_from_results(
    results: Sequence[FaceResult],
    *,
    fitted_on: str,
    in_use: Any = None,
    method: str = "platt",
    models: Sequence[str] = (),
    age_map: bool = True,
    features: Sequence[np.ndarray] | None = None,
) -> Any:
    """A calibration fitted on these faces (those whose label says minor or adult for the map;
    all for the interval). `in_use`: the AgeCalibration the faces were measured with (its
    interval scale and age map are undone first). `age_map`: also fit the teen-range age
    correction on the exact ages (fit_age_map). `features` (one per result, run_age_eval):
    also fit a minor head, and the map on its cross-validated scores."""
    from amparo.signals.classifiers.age_calibration import apply_age_map, fit_age_map, fit_calibration
    from amparo.signals.classifiers.age_minor_head import fit_minor_head

    scale = in_use.interval_scale if in_use is not None else 1.0

    def uncorrected(age: float) -> float:
        if in_use is None or not in_use.age_from:
            return age
        fr, to = in_use.age_from, in_use.age_to
        if age <= to[0] or age >= to[-1]:
            end = 0 if age <= to[0] else -1
            return age - (to[end] - fr[end])
        return float(np.interp(age, to, fr))

    raw_age = {id(r): uncorrected(r.age) for r in results}
    exact = [r for r in results if r.label.exact]
    knots: tuple[Sequence[float], Sequence[float]] = ((), ())
    if age_map:
        knots = fit_age_map([raw_age[id(r)] for r in exact], [r.label.low for r in exact])

    def corrected(r: FaceResult) -> float:
        return apply_age_map(raw_age[id(r)], knots[0], knots[1])

    known = [r for r in results if r.label.is_minor is not None]
    raw = [r.p_minor_raw for r in known]
    head = None
    if features is not None:
        if len(features) != len(results):
            raise ValueError("features: one per result")
        by_id = {id(r): x for r, x in zip(results, features, strict=True)}
        head, raw = fit_minor_head(
            [by_id[id(r)] for r in known],
            [bool(r.label.is_minor) for r in known],
            [r.label.person or r.label.path for r in known],
        )
    cal = fit_calibration(
        raw,
        [bool(r.label.is_minor) for r in known],
        [r.label.error(corrected(r)) if r.label.exact else None for r in known],
        # the unscaled sigma: the fitted scale replaces the one in use
        [r.sigma / scale for r in known],
        fitted_on=fitted_on,
        method=method,
        models=models,
        age_map=knots,
        minor_head=head,
    )
    return cal
