"""Evaluate the image path on a platform's own labelled set: per label and per detector precision,
recall, false-positive rate and accuracy, with confusion matrices (what DSA transparency reports ask
of automated means).

Input: CSV with columns `path,label` (label: a POLICY.md label, or `benign`), or JSON Lines with
`path` and `label`. Optional 0/1 columns `nudity`, `minor`, `ai_generated` give the truth per
detector; without them it is derived from the label."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amparo.domain.items import Context, Item
from amparo.errors import AmparoError, BadInput
from amparo.evaluation.metrics import evaluate
from amparo.pipeline import Pipeline

# Most severe first: an image's primary label is the first of these among its verdict's labels.
SEVERITY_ORDER = (
    "csam_known",
    "csam_suspected",
    "ncii_known",
    "sexual_deepfake",
    "age_unsure",
    "age_unverified",
    "adult_explicit",
    "hash_match",
    "detector_failure",
    "ai_generated",
    "minor_present",
)
IMAGE_LABELS = (*SEVERITY_ORDER, "benign")
# Which detector decision each label implies (for the per-detector truth when not given).
_IMPLIES = {
    "nudity": {"csam_suspected", "adult_explicit", "sexual_deepfake"},
    "minor": {"csam_suspected", "minor_present"},
    "ai_generated": {"ai_generated"},
}
DETECTOR_STAGE = {
    "nudity": ("nudity", "nudity", "nudity"),
    "minor": ("faces_age", "minor", "minor"),
    "ai_generated": ("provenance", "ai_generated", "ai_generated"),
}


@dataclass(frozen=True)
class LabelledImage:
    path: str
    label: str
    detector_truth: dict[str, bool]


def read_labels(text: str, *, fmt: str, base: Path) -> list[LabelledImage]:
    rows: Iterable[dict[str, Any]]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        rows = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    raise BadInput(f"line {n}: not JSON", code="bad_labels") from None
    out = []
    for n, r in enumerate(rows, start=1):
        path, label = (r.get("path") or "").strip(), (r.get("label") or "").strip()
        if not path or not label:
            raise BadInput(f"row {n}: needs path and label", code="bad_labels")
        if label not in IMAGE_LABELS:
            raise BadInput(f"row {n}: unknown label {label!r}; one of {', '.join(IMAGE_LABELS)}", code="bad_labels")
        truth = {}
        for det, labels in _IMPLIES.items():
            v = r.get(det)
            truth[det] = str(v).strip() in ("1", "true", "True") if v not in (None, "") else label in labels
        p = Path(path)
        out.append(LabelledImage(str(p if p.is_absolute() else base / p), label, truth))
    if not out:
        raise BadInput("no labelled images", code="bad_labels")
    return out


def primary_label(labels: Iterable[str]) -> str:
    ls = set(labels)
    return next((x for x in SEVERITY_ORDER if x in ls), "benign")


def run_eval(pipeline: Pipeline, items: list[LabelledImage]) -> dict[str, Any]:
    truth: list[str] = []
    predicted: list[str] = []
    det_truth: dict[str, list[str]] = {d: [] for d in DETECTOR_STAGE}
    det_pred: dict[str, list[str]] = {d: [] for d in DETECTOR_STAGE}
    errors = []
    th = pipeline.policy.thresholds
    for it in items:
        try:
            data = Path(it.path).read_bytes()
            item = Item.from_image(data, Context(surface="eval", source=it.path))
            a = pipeline.analyse(item)
            v = pipeline.decide(item, a, record=False)
        except (AmparoError, OSError) as e:
            errors.append({"path": it.path, "error": getattr(e, "message", str(e))})
            continue
        truth.append(it.label)
        predicted.append(primary_label(v.labels))
        for det, (stage, key, thr) in DETECTOR_STAGE.items():
            vals = [c.scores[key] for c in v.classifications if c.stage == stage and key in c.scores and not c.error]
            ran = any(c.stage == stage for c in v.classifications)
            if not ran:
                continue  # skipped by the cascade: scored only where it ran
            det_truth[det].append(det if it.detector_truth[det] else "no")
            det_pred[det].append(det if vals and max(vals) >= th.get(thr, 0.5) else "no")
    report = evaluate(truth, predicted, IMAGE_LABELS)
    detectors = {d: evaluate(det_truth[d], det_pred[d], (d, "no")).to_dict() for d in DETECTOR_STAGE if det_truth[d]}
    return {
        "images": len(items),
        "evaluated": len(truth),
        "errors": errors,
        "labels": report.to_dict(),
        "detectors": detectors,
    }
