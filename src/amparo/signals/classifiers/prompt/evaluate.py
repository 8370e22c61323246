"""Evaluate the gate on labelled rows: per label and per language, the hard
benign cases, and (optionally) obfuscated variants of every row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from amparo.evaluation.metrics import Report, evaluate, grouped

from .dataset import PromptRow
from .gate import PROMPT_LABELS, PromptGate
from .obfuscate import MUTATIONS, variants
from .rules import LABEL_CSAM, LABEL_NUDIFY

WATCHED = (LABEL_CSAM, LABEL_NUDIFY)


@dataclass(frozen=True)
class Scored:
    row: PromptRow
    predicted: str
    mutation: str = ""  # "" for the original text


def score(gate: PromptGate, rows: Sequence[PromptRow], *, obfuscate: bool = False) -> list[Scored]:
    texts: list[str] = []
    meta: list[tuple[PromptRow, str]] = []
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
            out.append(Scored(row, a.label, mutation))
    return out


def _recall(report: Report, label: str) -> float | None:
    stats = report.per_label.get(label)
    return stats.recall if stats else None


def summarise(scored: Sequence[Scored]) -> dict[str, Any]:
    """The figures the quality bar is stated in, overall and per language."""
    plain = [s for s in scored if not s.mutation]
    mutated = [s for s in scored if s.mutation]
    overall = evaluate([s.row.label for s in plain], [s.predicted for s in plain], PROMPT_LABELS)
    by_lang = grouped(
        plain, lambda s: s.row.lang, lambda s: s.row.label, lambda s: s.predicted, PROMPT_LABELS
    )
    summary: dict[str, Any] = {"overall": overall.to_dict(), "languages": {}}
    for lang, report in sorted(by_lang.items(), key=lambda kv: str(kv[0])):
        hard = [s for s in plain if s.row.lang == lang and s.row.hard and s.row.label != LABEL_CSAM]
        entry: dict[str, Any] = {
            "n": report.n,
            "accuracy": report.accuracy,
            "recall": {label: _recall(report, label) for label in WATCHED},
            "fpr": {
                label: report.per_label[label].fpr for label in WATCHED if label in report.per_label
            },
            "hard_benign_n": len(hard),
            "hard_benign_csam_fpr": (
                sum(s.predicted == LABEL_CSAM for s in hard) / len(hard) if hard else None
            ),
            "report": report.to_dict(),
        }
        if mutated:
            mine = [s for s in mutated if s.row.lang == lang]
            rep = evaluate([s.row.label for s in mine], [s.predicted for s in mine], PROMPT_LABELS)
            entry["obfuscated_recall"] = {label: _recall(rep, label) for label in WATCHED}
            entry["obfuscated_n"] = len(mine)
        summary["languages"][str(lang)] = entry
    if mutated:
        per_mutation: dict[str, Any] = {}
        for m in MUTATIONS:
            mine = [s for s in mutated if s.mutation == m]
            rep = evaluate([s.row.label for s in mine], [s.predicted for s in mine], PROMPT_LABELS)
            per_mutation[m] = {label: _recall(rep, label) for label in WATCHED}
        summary["mutations"] = per_mutation
        allrep = evaluate(
            [s.row.label for s in mutated], [s.predicted for s in mutated], PROMPT_LABELS
        )
        summary["obfuscated_overall"] = allrep.to_dict()
    return summary


def misses(scored: Sequence[Scored], limit: int = 20) -> list[dict[str, str]]:
    wrong = [s for s in scored if s.predicted != s.row.label]
    return [
        {"text": s.row.text, "label": s.row.label, "predicted": s.predicted, "mutation": s.mutation}
        for s in wrong[:limit]
    ]
