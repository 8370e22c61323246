"""Evaluate the gate on labelled rows: per label, per language and per source, the hard
benign cases, (optionally) obfuscated variants of every row, and the deciding evidence
of every error.

Any JSON Lines set can be read: `read_mapped` takes the names of the text, label,
language and source fields and a mapping from the set's own labels to the gate's
("S3=csam_request", "*=benign" for every other value)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amparo.errors import BadInput
from amparo.evaluation.metrics import Report, evaluate, grouped

from .dataset import PromptRow, json_objects
from .gate import ALL_LABELS, PromptGate
from .obfuscate import MUTATIONS, variants
from .rules import LABEL_CSAM, LABEL_DEEPFAKE, LABEL_NUDIFY

WATCHED = (LABEL_CSAM, LABEL_NUDIFY, LABEL_DEEPFAKE)


@dataclass(frozen=True)
class EvalRow:
    text: str
    label: str
    lang: str = "und"
    source: str = ""
    hard: bool = False
    original_label: str = ""  # the set's own label before mapping


@dataclass(frozen=True)
class Scored:
    row: EvalRow
    predicted: str
    mutation: str = ""  # "" for the original text
    evidence: tuple[dict[str, Any], ...] = field(default=())  # kept for errors only
    decided_by: str = ""
    windows: int = 1


def from_prompt_rows(rows: Sequence[PromptRow], source: str = "shipped") -> list[EvalRow]:
    return [EvalRow(r.text, r.label, r.lang, f"{source}:{r.split}", r.hard, r.label) for r in rows]


def parse_mapping(items: Sequence[str], labels: Sequence[str]) -> dict[str, str]:
    """ "S3=csam_request" pairs; the right side must be a gate label."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadInput(f"--map expects SOURCE_LABEL=GATE_LABEL, got {item!r}")
        if value not in labels:
            raise BadInput(f"--map {item!r}: {value!r} is not a gate label ({', '.join(labels)})")
        out[key] = value
    return out


def _field(raw: Mapping[str, Any], name: str) -> Any:
    """A field, or a dotted path into nested objects ("meta.lang")."""
    value: Any = raw
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def read_mapped(
    path: Path,
    *,
    mapping: Mapping[str, str],
    labels: Sequence[str],
    text_field: str = "text",
    label_field: str = "label",
    lang_field: str = "lang",
    source_field: str = "source",
    default_source: str = "",
) -> Iterator[EvalRow]:
    """Rows of any JSON Lines file; the label is mapped, else it must already be a gate label."""
    for n, raw in json_objects(path):
        text, label = _field(raw, text_field), _field(raw, label_field)
        if not isinstance(text, str) or label is None:
            raise BadInput(f"{path}:{n}: needs a text field {text_field!r} and a label field {label_field!r}")
        own = str(label).lower() if isinstance(label, bool) else str(label)
        mapped = mapping.get(own, own if own in labels else mapping.get("*", ""))
        if not mapped:
            raise BadInput(f"{path}:{n}: label {own!r} is not a gate label; map it with --map {own}=LABEL")
        lang, source = _field(raw, lang_field), _field(raw, source_field)
        yield EvalRow(
            text,
            mapped,
            str(lang) if lang is not None else "und",
            str(source) if source is not None else default_source,
            bool(raw.get("hard", False)),
            own,
        )


def score(gate: PromptGate, rows: Sequence[EvalRow], *, obfuscate: bool = False) -> list[Scored]:
    texts: list[str] = []
    meta: list[tuple[EvalRow, str]] = []
    for r in rows:
        texts.append(r.text)
        meta.append((r, ""))
        if obfuscate:
            for mutation, text in variants(r.text).items():
                texts.append(text)
                meta.append((r, mutation))
    out: list[Scored] = []
    for start in range(0, len(texts), 512):
        analyses = gate.analyse_many(texts[start : start + 512])
        for (row, mutation), a in zip(meta[start : start + 512], analyses, strict=True):
            wrong = a.label != row.label
            evidence = tuple(e.to_dict() for e in a.evidence) if wrong else ()
            out.append(Scored(row, a.label, mutation, evidence, a.decided_by, a.windows))
    return out


def _recall(report: Report, label: str) -> float | None:
    stats = report.per_label.get(label)
    return stats.recall if stats else None


def summarise(scored: Sequence[Scored]) -> dict[str, Any]:
    """The figures the quality bar is stated in, overall and per language."""
    plain = [s for s in scored if not s.mutation]
    mutated = [s for s in scored if s.mutation]
    overall = evaluate([s.row.label for s in plain], [s.predicted for s in plain], ALL_LABELS)
    by_lang = grouped(plain, lambda s: s.row.lang, lambda s: s.row.label, lambda s: s.predicted, ALL_LABELS)
    summary: dict[str, Any] = {"overall": overall.to_dict(), "languages": {}}
    for lang, report in sorted(by_lang.items(), key=lambda kv: str(kv[0])):
        hard = [s for s in plain if s.row.lang == lang and s.row.hard and s.row.label != LABEL_CSAM]
        entry: dict[str, Any] = {
            "n": report.n,
            "accuracy": report.accuracy,
            "recall": {label: _recall(report, label) for label in WATCHED},
            "fpr": {label: report.per_label[label].fpr for label in WATCHED if label in report.per_label},
            "hard_benign_n": len(hard),
            "hard_benign_csam_fpr": (sum(s.predicted == LABEL_CSAM for s in hard) / len(hard) if hard else None),
            "report": report.to_dict(),
        }
        if mutated:
            mine = [s for s in mutated if s.row.lang == lang]
            rep = evaluate([s.row.label for s in mine], [s.predicted for s in mine], ALL_LABELS)
            entry["obfuscated_recall"] = {label: _recall(rep, label) for label in WATCHED}
            entry["obfuscated_n"] = len(mine)
        summary["languages"][str(lang)] = entry
    if mutated:
        per_mutation: dict[str, Any] = {}
        for m in MUTATIONS:
            mine = [s for s in mutated if s.mutation == m]
            rep = evaluate([s.row.label for s in mine], [s.predicted for s in mine], ALL_LABELS)
            per_mutation[m] = {label: _recall(rep, label) for label in WATCHED}
        summary["mutations"] = per_mutation
        allrep = evaluate([s.row.label for s in mutated], [s.predicted for s in mutated], ALL_LABELS)
        summary["obfuscated_overall"] = allrep.to_dict()
    return summary


def per_source(scored: Sequence[Scored]) -> dict[str, Any]:
    plain = [s for s in scored if not s.mutation]
    reports = grouped(plain, lambda s: s.row.source, lambda s: s.row.label, lambda s: s.predicted, ALL_LABELS)
    return {str(k): r.to_dict() for k, r in sorted(reports.items(), key=lambda kv: str(kv[0]))}


def misses(scored: Sequence[Scored], limit: int | None = None) -> list[dict[str, Any]]:
    """Every error (or the first `limit`) with the evidence that decided it."""
    wrong = [s for s in scored if s.predicted != s.row.label]
    return [
        {
            "text": s.row.text,
            "label": s.row.label,
            "source_label": s.row.original_label,
            "predicted": s.predicted,
            "lang": s.row.lang,
            "source": s.row.source,
            "mutation": s.mutation,
            "decided_by": s.decided_by,
            "windows": s.windows,
            "evidence": list(s.evidence),
        }
        for s in (wrong if limit is None else wrong[:limit])
    ]
