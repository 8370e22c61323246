"""PDQ's hash of record, computed by compiled loops that give pdqhash's bits exactly, faster.

pdqhash (Meta's C++ reference behind Cython) spends most of a hash on work whose result PDQ
throws away: it blurs every pixel of the full image four times (two Jarosz box passes along rows
and columns) and then keeps 64 x 64 of them. Its column passes also walk the image column by
column, a cache miss per pixel. Here the same arithmetic runs in an order the CPU likes:

* luma exactly as pdqhash's binding computes it (float64 weights, then float32);
* every box pass is the reference's running sum (phases 1-4 of box1DFloat: add, add and write,
  add-subtract-write, subtract-write), float32 throughout, with all rows (or columns) advanced
  in lockstep so independent sums fill the pipeline and column passes read memory in order;
* the second pair of passes writes only what decimation keeps: the row pass divides only at
  the 64 sampled columns and the column pass runs only on those columns. The running sums still
  visit every pixel, because each output's rounding depends on the whole sum before it;
* the 64 -> 16 DCT, the quality metric and the median threshold as in pdqhashing.cpp (float32
  products and sums in the reference's order; the lower median of the 256 coefficients).

No operation is reordered within a sum and nothing is fused (numba does not contract a*b+c
into an FMA without fastmath), so the hash and the quality equal pdqhash's bit for bit:
tests/core/test_pdq_exact.py compares them on the shared reference images and on random
images of many shapes.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from numba import njit

MIN_HASHABLE_DIM = 5  # pdqhashing.cpp: smaller images hash to zero with quality 0
# Work space up to this many floats (~32 MB: two 4-megapixel planes) stays allocated per thread.
KEEP_FLOATS = 8_400_000
ROW_BLOCK = 32  # rows filtered in lockstep (measured: 4-64 all within 10 %, 32 the best)


def _dct_matrix() -> np.ndarray:
    """16 x 64, float32: sqrt(2/64) as a float32, times the cosine in double, stored as float32."""
    scale = np.float64(np.float32(math.sqrt(2.0 / 64.0)))
    m = np.empty((16, 64), np.float32)
    for i in range(16):
        for j in range(64):
            m[i, j] = np.float32(scale * math.cos((math.pi / 2.0 / 64.0) * (i + 1) * (2 * j + 1)))
    return m


_DCT = _dct_matrix()


def window(old: int, new: int = 64) -> int:
    """computeJaroszFilterWindowSize: half a decimation step, rounded up."""
    return (old + 2 * new - 1) // (2 * new)


@njit(cache=True, nogil=True)
def _luma(rgb: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """out (h * w,) <- luma of a C-contiguous (h, w, 3) image, one flat loop (it vectorises)."""
    n = rgb.shape[0] * rgb.shape[1]
    flat = rgb.reshape(n * 3)
    for p in range(n):
        # the binding's numpy expression: ((r * 0.299 + g * 0.587) + b * 0.114) in float64
        out[p] = np.float32(flat[3 * p] * 0.299 + flat[3 * p + 1] * 0.587 + flat[3 * p + 2] * 0.114)


@njit(cache=True, nogil=True)
def _box_rows(src: np.ndarray, dst: np.ndarray, w: int, keep: np.ndarray) -> None:  # pragma: no cover
    """Box filter along each row (box1DFloat with stride 1), ROW_BLOCK rows in lockstep (their
    sums are independent, so the divisions overlap; a block's rows stay in the first-level
    cache). Writes dst[:, c] only where keep[c]."""
    rows, n = src.shape
    half = (w + 2) // 2
    p1, p2, p3, p4 = half - 1, w - half + 1, n - w, half - 1
    s = np.zeros(ROW_BLOCK, np.float32)
    for r0 in range(0, rows, ROW_BLOCK):
        nb = min(ROW_BLOCK, rows - r0)
        s[:] = 0.0
        ri = 0
        li = 0
        oi = 0
        count = 0
        for _ in range(p1):
            for r in range(nb):
                s[r] += src[r0 + r, ri]
            count += 1
            ri += 1
        for _ in range(p2):
            count += 1
            d = np.float32(count)
            for r in range(nb):
                s[r] += src[r0 + r, ri]
                if keep[oi]:
                    dst[r0 + r, oi] = s[r] / d
            ri += 1
            oi += 1
        for _ in range(p3):
            d = np.float32(count)
            for r in range(nb):
                s[r] += src[r0 + r, ri]
                s[r] -= src[r0 + r, li]
                if keep[oi]:
                    dst[r0 + r, oi] = s[r] / d
            li += 1
            ri += 1
            oi += 1
        for _ in range(p4):
            count -= 1
            d = np.float32(count)
            for r in range(nb):
                s[r] -= src[r0 + r, li]
                if keep[oi]:
                    dst[r0 + r, oi] = s[r] / d
            li += 1
            oi += 1


@njit(cache=True, nogil=True)
def _box_cols(src: np.ndarray, dst: np.ndarray, w: int, cols: np.ndarray) -> None:  # pragma: no cover
    """Box filter down each column in `cols` (box1DFloat with stride numCols), those columns in
    lockstep, reading row after row; dst[:, k] is column cols[k]."""
    n = src.shape[0]
    m = cols.shape[0]
    half = (w + 2) // 2
    p1, p2, p3, p4 = half - 1, w - half + 1, n - w, half - 1
    s = np.zeros(m, np.float32)
    ri = 0
    li = 0
    oi = 0
    count = 0
    for _ in range(p1):
        for k in range(m):
            s[k] += src[ri, cols[k]]
        count += 1
        ri += 1
    for _ in range(p2):
        count += 1
        d = np.float32(count)
        for k in range(m):
            s[k] += src[ri, cols[k]]
            dst[oi, k] = s[k] / d
        ri += 1
        oi += 1
    for _ in range(p3):
        d = np.float32(count)
        for k in range(m):
            s[k] += src[ri, cols[k]]
            s[k] -= src[li, cols[k]]
            dst[oi, k] = s[k] / d
        li += 1
        ri += 1
        oi += 1
    for _ in range(p4):
        count -= 1
        d = np.float32(count)
        for k in range(m):
            s[k] -= src[li, cols[k]]
            dst[oi, k] = s[k] / d
        li += 1
        oi += 1


@njit(cache=True, nogil=True)
def _box_all_cols(src: np.ndarray, dst: np.ndarray, w: int) -> None:  # pragma: no cover - compiled
    """_box_cols over every column, with contiguous rows (the loop the compiler vectorises)."""
    n, m = src.shape
    half = (w + 2) // 2
    p1, p2, p3, p4 = half - 1, w - half + 1, n - w, half - 1
    s = np.zeros(m, np.float32)
    ri = 0
    li = 0
    oi = 0
    count = 0
    for _ in range(p1):
        for k in range(m):
            s[k] += src[ri, k]
        count += 1
        ri += 1
    for _ in range(p2):
        count += 1
        d = np.float32(count)
        for k in range(m):
            s[k] += src[ri, k]
            dst[oi, k] = s[k] / d
        ri += 1
        oi += 1
    for _ in range(p3):
        d = np.float32(count)
        for k in range(m):
            s[k] += src[ri, k]
            s[k] -= src[li, k]
            dst[oi, k] = s[k] / d
        li += 1
        ri += 1
        oi += 1
    for _ in range(p4):
        count -= 1
        d = np.float32(count)
        for k in range(m):
            s[k] -= src[li, k]
            dst[oi, k] = s[k] / d
        li += 1
        oi += 1


@njit(cache=True, nogil=True)
def _grid64(
    luma: np.ndarray, a: np.ndarray, c: np.ndarray, wr: int, wc: int, row_at: np.ndarray, col_at: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    """jaroszFilterFloat (two row+column pass pairs) then decimateFloat to 64 x 64. `a` (like
    luma) and `c` (rows x 64) are work space; luma is overwritten."""
    cols = luma.shape[1]
    every = np.ones(cols, np.bool_)
    _box_rows(luma, a, wr, every)
    _box_all_cols(a, luma, wc)  # luma is not read again: its buffer takes the first pair's result
    keep = np.zeros(cols, np.bool_)
    for k in range(64):
        keep[col_at[k]] = True
    _box_rows(luma, a, wr, keep)
    _box_cols(a, c, wc, col_at)
    out = np.empty((64, 64), np.float32)
    for i in range(64):
        for k in range(64):
            out[i, k] = c[row_at[i], k]
    return out


@njit(cache=True, nogil=True)
def _quality(g: np.ndarray) -> int:  # pragma: no cover - compiled
    total = 0
    hundred = np.float32(100.0)
    scale = np.float32(255.0)
    for i in range(63):
        for j in range(64):
            total += abs(int(((g[i, j] - g[i + 1, j]) * hundred) / scale))
    for i in range(64):
        for j in range(63):
            total += abs(int(((g[i, j] - g[i, j + 1]) * hundred) / scale))
    return min(100, total // 90)


@njit(cache=True, nogil=True)
def _dct16(g: np.ndarray, dct: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    t = np.empty((16, 64), np.float32)
    for i in range(16):
        for j in range(64):
            acc = np.float32(0.0)
            for k in range(64):
                acc += dct[i, k] * g[k, j]
            t[i, j] = acc
    out = np.empty((16, 16), np.float32)
    for i in range(16):
        for j in range(16):
            acc = np.float32(0.0)
            for k in range(64):
                acc += t[i, k] * dct[j, k]
            out[i, j] = acc
    return out


def _samples(n: int) -> np.ndarray:
    """decimateFloat's source index of each of the 64 outputs: centres, computed in double."""
    return np.array([int(((k + 0.5) * n) / 64) for k in range(64)], dtype=np.int64)


class _Scratch(threading.local):
    """Work buffers kept per thread: a fresh multi-megabyte array is mapped and faulted in page
    by page on every call (glibc maps large blocks), which cost as much as the filtering."""

    def __init__(self) -> None:
        self.buf = np.empty(0, np.float32)

    def take(self, n: int) -> np.ndarray:
        if n > KEEP_FLOATS:
            return np.empty(n, np.float32)
        if self.buf.size < n:
            self.buf = np.empty(n, np.float32)
        return self.buf[:n]


_SCRATCH = _Scratch()


def pdq_grid(rgb: np.ndarray) -> np.ndarray:
    """The reference's 64 x 64 float32 downsample of an (h, w, 3) uint8 image (h, w >= 5)."""
    rgb = np.ascontiguousarray(rgb)
    rows, cols = int(rgb.shape[0]), int(rgb.shape[1])
    n = rows * cols
    work = _SCRATCH.take(2 * n + 64 * rows)
    luma = work[:n].reshape(rows, cols)
    _luma(rgb, work[:n])
    if rows == 64 and cols == 64:
        return luma.copy()  # pdqFloat256FromFloatLuma takes a 64 x 64 image as it is
    a = work[n : 2 * n].reshape(rows, cols)
    c = work[2 * n :].reshape(rows, 64)
    return _grid64(luma, a, c, window(cols), window(rows), _samples(rows), _samples(cols))


def pdq_exact(rgb: np.ndarray) -> tuple[bytes, int]:
    """(32 hash bytes, quality) for an (h, w, 3) uint8 image: pdqhash.compute's hash, packed as
    Amparo stores it (bit 255 first)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("pdq_exact needs an (h, w, 3) uint8 array")
    if rgb.shape[0] < MIN_HASHABLE_DIM or rgb.shape[1] < MIN_HASHABLE_DIM:
        return bytes(32), 0
    grid = pdq_grid(rgb)
    quality = int(_quality(grid))
    coeffs = _dct16(grid, _DCT).reshape(-1)
    median = np.partition(coeffs, 127)[127]  # torben's median of 256 values: the 128th smallest
    return np.packbits((coeffs > median)[::-1]).tobytes(), quality


def warm() -> None:
    """Load (or, on a fresh install, compile: ~3 s) the loops for the arrays a decode hands over:
    writable and read-only, so a server's first check does not pay for it."""
    img = np.zeros((70, 70, 3), np.uint8)
    pdq_exact(img)
    img.flags.writeable = False
    pdq_exact(img)
