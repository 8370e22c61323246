"""Condition language of policy rules. Each condition returns (matched, evidence).

A `when` mapping is an implicit `all` of its keys. Keys:
  all: [cond...] | any: [cond...] | not: cond
  kind: image|prompt|edit_request|generated_image (or a list)
  context: {surface: x, jurisdiction: y, <extra key>: value}
  match: {category: csam|ncii|other (or list), opinion: positive (default) | any, signal_type: pdq,
          self_submitted: true|false (default: either; banks of hashes people submitted of themselves)}
  score: {stage: nudity, key: nudity, gte|gt|lte|lt: number or "$threshold_name", agg: max|min}
  missing_score: {stage: faces_age, key: min_age}
  ran: stage-name          (the stage ran)
  failed: stage-name|any   (a detector of that stage failed)
  attempts: {label: csam_request, gte: N}
  fact: {name: key in Facts.extra, equals: value}
  label: {stage: prompt, is: csam_request (or a list)}   (a classifier's decided label, details["label"])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from amparo.policy.facts import Facts

Evidence = list[tuple[str, Any]]
_COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "gte": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "lte": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
}
CONDITION_KEYS = frozenset(
    {
        "all",
        "any",
        "not",
        "kind",
        "context",
        "match",
        "score",
        "missing_score",
        "ran",
        "failed",
        "attempts",
        "fact",
        "label",
    }
)


class ConditionError(ValueError):
    pass


def validate_condition(cond: Any, where: str) -> None:
    if not isinstance(cond, Mapping) or not cond:
        raise ConditionError(f"{where}: a condition must be a non-empty mapping")
    for key, val in cond.items():
        if key not in CONDITION_KEYS:
            raise ConditionError(f"{where}: unknown condition {key!r}; known: {', '.join(sorted(CONDITION_KEYS))}")
        if key in ("all", "any"):
            if not isinstance(val, list) or not val:
                raise ConditionError(f"{where}.{key}: needs a non-empty list")
            for i, c in enumerate(val):
                validate_condition(c, f"{where}.{key}[{i}]")
        elif key == "not":
            validate_condition(val, f"{where}.not")
        elif key in ("score", "attempts"):
            if not isinstance(val, Mapping):
                raise ConditionError(f"{where}.{key}: needs a mapping")
            ops = [k for k in val if k in _COMPARATORS]
            if len(ops) != 1:
                raise ConditionError(f"{where}.{key}: needs exactly one of gte/gt/lte/lt")
            if key == "score" and ("stage" not in val or "key" not in val):
                raise ConditionError(f"{where}.score: needs stage and key")
            if key == "attempts" and "label" not in val:
                raise ConditionError(f"{where}.attempts: needs label")
        elif key == "label" and (not isinstance(val, Mapping) or "is" not in val):
            raise ConditionError(f"{where}.label: needs is")
        elif key == "missing_score" and (not isinstance(val, Mapping) or "stage" not in val or "key" not in val):
            raise ConditionError(f"{where}.missing_score: needs stage and key")


def _value(v: Any, thresholds: Mapping[str, float]) -> float:
    if isinstance(v, str) and v.startswith("$"):
        name = v[1:]
        if name not in thresholds:
            raise ConditionError(f"unknown threshold {v!r}")
        return float(thresholds[name])
    return float(v)


def _as_list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, list | tuple) else [v]


def evaluate(cond: Mapping[str, Any], facts: Facts, thresholds: Mapping[str, float]) -> tuple[bool, Evidence]:
    evidence: Evidence = []
    for key, val in cond.items():
        ok, ev = _evaluate_one(key, val, facts, thresholds)
        if not ok:
            return False, []
        evidence.extend(ev)
    return True, evidence


def _evaluate_one(key: str, val: Any, facts: Facts, th: Mapping[str, float]) -> tuple[bool, Evidence]:
    if key == "all":
        ev: Evidence = []
        for c in val:
            ok, e = evaluate(c, facts, th)
            if not ok:
                return False, []
            ev.extend(e)
        return True, ev
    if key == "any":
        for c in val:
            ok, e = evaluate(c, facts, th)
            if ok:
                return True, e
        return False, []
    if key == "not":
        ok, _ = evaluate(val, facts, th)
        return (not ok), []
    if key == "kind":
        return facts.kind.value in _as_list(val), [("kind", facts.kind.value)]
    if key == "context":
        ctx = facts.context.to_dict()
        extra = dict(facts.context.extra)
        for k, want in val.items():
            have = ctx.get(k, extra.get(k))
            if str(have) not in [str(w) for w in _as_list(want)]:
                return False, []
        return True, [(f"context.{k}", ctx.get(k, extra.get(k))) for k in val]
    if key == "match":
        cats = _as_list(val.get("category", ["csam", "ncii", "other"]))
        opinion = val.get("opinion", "positive")
        stype = val.get("signal_type")
        self_submitted = val.get("self_submitted")
        hits = [
            m
            for m in facts.matches
            if not m.negative_bank
            and m.bank_category in cats
            and (opinion == "any" or m.opinion == opinion)
            and (stype is None or m.signal_type == stype)
            and (self_submitted is None or m.self_submitted == bool(self_submitted))
        ]
        if not hits:
            return False, []
        best = min(hits, key=lambda m: m.distance)
        return True, [("match", f"{best.bank}#{best.entry_id} {best.signal_type} d={best.distance}<= {best.threshold}")]
    if key == "score":
        values = [c.scores[val["key"]] for c in facts.for_stage(val["stage"]) if not c.error and val["key"] in c.scores]
        if not values:
            return False, []
        agg = val.get("agg", "min" if val["key"] in ("min_age",) else "max")
        got = min(values) if agg == "min" else max(values)
        for op, fn in _COMPARATORS.items():
            if op in val:
                limit = _value(val[op], th)
                if fn(float(got), limit):
                    return True, [
                        (f"{val['stage']}.{val['key']}", round(float(got), 4)),
                        (f"{val['stage']}.{val['key']}.{op}", limit),
                    ]
                return False, []
        return False, []
    if key == "missing_score":
        present = any(val["key"] in c.scores for c in facts.for_stage(val["stage"]) if not c.error)
        return (not present), []
    if key == "ran":
        return val in facts.stages_run, [("stage_ran", val)]
    if key == "failed":
        failed = facts.failed(None if val == "any" else val)
        return bool(failed), [("detector_failed", ", ".join(f"{c.detector}: {c.error}" for c in failed))]
    if key == "attempts":
        n = int(facts.attempts.get(val["label"], 0))
        for op, fn in _COMPARATORS.items():
            if op in val:
                limit = _value(val[op], th)
                return (fn(n, limit), [(f"attempts.{val['label']}", n)])
        return False, []
    if key == "label":
        wanted = [str(x) for x in _as_list(val.get("is"))]
        for c in facts.for_stage(val.get("stage", "prompt")):
            if not c.error and str(c.details.get("label")) in wanted:
                return True, [(f"{c.stage or c.detector}.label", c.details.get("label"))]
        return False, []
    if key == "fact":
        have = facts.extra.get(val["name"])
        want = val.get("equals", True)
        return have == want, [(f"fact.{val['name']}", have)]
    raise ConditionError(f"unknown condition {key!r}")
