"""Compiled (numba) loops behind the PDQ index: bucket tables, probe-and-verify search, linear scan.

A hash is four little-endian uint64 words (the 32 bytes viewed as `<u8`); bit `k` of the hash is bit
`k % 64` of word `k // 64`. A substring is a run of `length` bits starting at bit `start`.

Layout rows (int64, one per substring): START, LENGTH, OCC_OFF (where this substring's words begin
in the concatenated `occ` / `rank` arrays) and BUCKET_OFF (where its entries begin in `bucket`).
Bucket tables are succinct, so their size follows the number of entries rather than 2**LENGTH:
`occ` has one bit per bucket (set: non-empty), `rank[w]` counts the set bits before occ word w, and
`bucket[BUCKET_OFF + k]` is where the k-th non-empty bucket's entries begin in `post` row i (one
sentinel after the last). occ and rank (1.5 bits a bucket) stay in the CPU cache, so a probe of an
empty bucket costs no memory access and a non-empty one costs one miss for its bounds.

All functions are `cache=True` (compiled once per machine into __pycache__ or NUMBA_CACHE_DIR) and
searches are `nogil=True` so reader threads run in parallel with each other and with a writer.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

START, LENGTH, OCC_OFF, BUCKET_OFF = 0, 1, 2, 3
LAYOUT_COLUMNS = 4


@intrinsic
def _popcount(typingctx, x):  # type: ignore[no-untyped-def]
    """llvm.ctpop: one POPCNT instruction on the host CPU (numba compiles for the host)."""
    sig = types.int64(types.uint64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.ctpop(args[0])

    return sig, codegen


@njit(inline="always")
def _bits(x0, x1, x2, x3, start, length):  # type: ignore[no-untyped-def]
    """Bits [start, start+length) of the 256-bit value (x0..x3), length <= 32, as int64."""
    w = start >> 6
    off = np.uint64(start & 63)
    if w == 0:
        lo, hi = x0, x1
    elif w == 1:
        lo, hi = x1, x2
    elif w == 2:
        lo, hi = x2, x3
    else:
        lo, hi = x3, np.uint64(0)
    v = lo >> off
    if (start & 63) + length > 64:
        v |= hi << (np.uint64(64) - off)
    return np.int64(v & ((np.uint64(1) << np.uint64(length)) - np.uint64(1)))


@njit(inline="always")
def _distance(words, p, q0, q1, q2, q3):  # type: ignore[no-untyped-def]
    return (
        _popcount(words[p, 0] ^ q0)
        + _popcount(words[p, 1] ^ q1)
        + _popcount(words[p, 2] ^ q2)
        + _popcount(words[p, 3] ^ q3)
    )


@njit(inline="always")
def _found_by_earlier(words, p, q0, q1, q2, q3, layout, t, i):  # type: ignore[no-untyped-def]
    """True when an earlier probed substring also reaches entry p (it is reported there)."""
    x0 = words[p, 0] ^ q0
    x1 = words[p, 1] ^ q1
    x2 = words[p, 2] ^ q2
    x3 = words[p, 3] ^ q3
    for j in range(i):
        if t[j] >= 0:
            d = _popcount(np.uint64(_bits(x0, x1, x2, x3, layout[j, START], layout[j, LENGTH])))
            if d <= t[j]:
                return True
    return False


@njit(cache=True, nogil=True)
def search_segment(
    q,
    words,
    dead,
    layout,
    t,
    masks,
    mask_off,
    occ,
    rank,
    bucket,
    post,
    n_indexed,
    n_total,
    r,
    out_pos,
    out_dist,
):  # type: ignore[no-untyped-def]  # noqa: E501
    """Entries within distance r of q: multi-index probing of [0, n_indexed), linear scan after it.

    `t[i]` is how many bits of substring i are flipped when probing (-1: substring not probed); the
    caller picks t with sum(t[i] + 1) >= r + 1, so by pigeonhole every entry within r is probed.
    The flip masks of substring i are masks[mask_off[i]:mask_off[i + 1]]. When t is empty the whole
    range is scanned linearly. Writes up to len(out_pos) hits and returns the total number of hits
    (a larger return value means: call again with bigger buffers).

    Three passes (bucket bounds, candidate positions, distances) keep each pass's memory loads
    independent of each other, so the CPU overlaps their cache misses instead of waiting on each.
    """
    q0, q1, q2, q3 = q[0], q[1], q[2], q[3]
    cap = out_pos.shape[0]
    count = 0
    m = t.shape[0]
    linear_from = n_indexed if m > 0 else 0
    if m > 0:
        n_probes = mask_off[m]
        b_start = np.empty(n_probes, np.int64)
        b_sub = np.empty(n_probes, np.int64)
        k = 0
        for i in range(m):
            if t[i] < 0:
                continue
            key = _bits(q0, q1, q2, q3, layout[i, START], layout[i, LENGTH])
            ob = layout[i, OCC_OFF]
            bo = layout[i, BUCKET_OFF]
            for j in range(mask_off[i], mask_off[i + 1]):
                v = key ^ masks[j]
                w = occ[ob + (v >> 6)]
                bit = np.uint64(v & 63)
                if (w >> bit) & np.uint64(1):
                    below = w & ((np.uint64(1) << bit) - np.uint64(1))
                    b_start[k] = bo + np.int64(rank[ob + (v >> 6)]) + _popcount(below)
                    b_sub[k] = i
                    k += 1
        b_end = np.empty(k, np.int64)
        total = 0
        for j in range(k):
            kb = b_start[j]
            s = np.int64(bucket[kb])
            e = np.int64(bucket[kb + 1])
            b_start[j] = s
            b_end[j] = e
            total += e - s
        cand = np.empty(total, np.int64)
        cand_sub = np.empty(total, np.int64)
        c = 0
        for j in range(k):
            prow = post[b_sub[j]]
            for pp in range(b_start[j], b_end[j]):
                cand[c] = prow[pp]
                cand_sub[c] = b_sub[j]
                c += 1
        for c in range(total):
            p = cand[c]
            d = _distance(words, p, q0, q1, q2, q3)
            if (
                d <= r
                and dead[p] == 0
                and not _found_by_earlier(words, p, q0, q1, q2, q3, layout, t, cand_sub[c])
            ):
                if count < cap:
                    out_pos[count] = p
                    out_dist[count] = d
                count += 1
    for p in range(linear_from, n_total):
        d = _distance(words, p, q0, q1, q2, q3)
        if d <= r and dead[p] == 0:
            if count < cap:
                out_pos[count] = p
                out_dist[count] = d
            count += 1
    return count


@njit(cache=True, nogil=True)  # builds run beside searches: readers keep answering
def bucket_starts(words, start, length):  # type: ignore[no-untyped-def]
    """Counting sort of the entries by substring value: (starts[2**length + 1], order[n])."""
    n = words.shape[0]
    size = 1 << length
    starts = np.zeros(size + 1, np.int64)
    keys = np.empty(n, np.int64)
    for p in range(n):
        k = _bits(words[p, 0], words[p, 1], words[p, 2], words[p, 3], start, length)
        keys[p] = k
        starts[k + 1] += 1
    for v in range(size):
        starts[v + 1] += starts[v]
    cursor = starts[:size].copy()
    order = np.empty(n, np.uint32)
    for p in range(n):
        k = keys[p]
        order[cursor[k]] = p
        cursor[k] += 1
    return starts, order


@njit(cache=True, nogil=True)  # builds run beside searches: readers keep answering
def bucket_tables(starts, occ, rank, bucket):  # type: ignore[no-untyped-def]
    """Fill occ (one bit per bucket), rank (set bits before each occ word) and bucket (start of
    each non-empty bucket, then the end) from the counting-sort starts; len(bucket) = k + 1."""
    size = starts.shape[0] - 1
    occ[:] = 0
    k = 0
    for v in range(size):
        if (v & 63) == 0:
            rank[v >> 6] = k
        if starts[v + 1] > starts[v]:
            occ[v >> 6] |= np.uint64(1) << np.uint64(v & 63)
            bucket[k] = starts[v]
            k += 1
    bucket[k] = starts[size]


@njit(cache=True, nogil=True)  # builds run beside searches: readers keep answering
def count_nonempty(starts):  # type: ignore[no-untyped-def]
    k = 0
    for v in range(starts.shape[0] - 1):
        if starts[v + 1] > starts[v]:
            k += 1
    return k
