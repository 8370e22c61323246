"""Measuring detectors on labelled sets: confusion matrices and per-label, per-group rates."""

from amparo.evaluation.metrics import LabelStats, Report, confusion_matrix, evaluate, grouped

__all__ = ["LabelStats", "Report", "confusion_matrix", "evaluate", "grouped"]
