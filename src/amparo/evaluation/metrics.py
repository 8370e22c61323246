"""Generic classification metrics: confusion matrix, and per label precision,
recall, F1, false-positive rate, with the same figures grouped by any key
(language for prompts, source for images)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass(frozen=True)
class LabelStats:
    label: str
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def fpr(self) -> float | None:
        return _ratio(self.fp, self.fp + self.tn)

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "support": self.support,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "fpr": self.fpr,
        }


@dataclass(frozen=True)
class Report:
    labels: tuple[str, ...]
    n: int
    accuracy: float | None
    per_label: dict[str, LabelStats]
    matrix: dict[str, dict[str, int]]  # truth → predicted → count

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "per_label": {k: v.to_dict() for k, v in self.per_label.items()},
            "confusion": self.matrix,
        }


def confusion_matrix(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict[str, dict[str, int]]:
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted differ in length")
    counts = Counter(zip(truth, predicted, strict=True))
    extra = sorted((set(truth) | set(predicted)) - set(labels))
    names = list(labels) + extra
    return {t: {p: counts[(t, p)] for p in names} for t in names}


def evaluate(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> Report:
    matrix = confusion_matrix(truth, predicted, labels)
    names = tuple(matrix)
    n = len(truth)
    per: dict[str, LabelStats] = {}
    for label in names:
        tp = matrix[label][label]
        fn = sum(matrix[label].values()) - tp
        fp = sum(matrix[t][label] for t in names) - tp
        per[label] = LabelStats(label, tp, fp, fn, n - tp - fn - fp)
    correct = sum(matrix[x][x] for x in names)
    return Report(names, n, _ratio(correct, n), per, matrix)


def grouped(
    items: Iterable[T],
    key: Callable[[T], Hashable],
    truth: Callable[[T], str],
    predicted: Callable[[T], str],
    labels: Sequence[str],
) -> dict[Hashable, Report]:
    """One report per group (e.g. per language)."""
    groups: dict[Hashable, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return {
        g: evaluate([truth(i) for i in xs], [predicted(i) for i in xs], labels)
        for g, xs in groups.items()
    }
