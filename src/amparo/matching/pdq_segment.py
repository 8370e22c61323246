"""An immutable searchable run of PDQ hashes (multi-index hashing tables) and its file format.

Base segment file (`base.pdqidx`), little-endian, every section 4096-byte aligned:

    header   4096 bytes: struct _HEADER, then m substring rows (_SUBSTRING), then crc32 of both
    words    n x 4 uint64  the hashes, entries sorted by id
    ids      n int64       ascending
    post     m x n uint32  entry positions, row i sorted by the value of substring i
    occ      uint64        per substring: bitmap of non-empty buckets (2**length bits)
    rank     uint32        per substring: set bits of occ before each of its words
    bucket   uint32        per substring: start of each non-empty bucket in its post row, then n

The file is opened with numpy.memmap (read-only) and never modified: compaction writes a new file
and renames it over this one, readers keep the old mapping until they drop it.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations
from math import comb
from pathlib import Path
from typing import BinaryIO

import numpy as np

from amparo.errors import BadInput
from amparo.matching import pdq_kernel as kernel

MAGIC = b"AMPDQIDX"
VERSION = 1
HEADER_SIZE = 4096
ALIGN = 4096
HASH_BITS = 256
MAX_SUBSTRINGS = 32
# Below this many entries a linear scan is as fast as probing, and tables would be waste.
LINEAR_ONLY_BELOW = 4096
DESIGN_DISTANCE = 31  # the layout is tuned for the PDQ match threshold

# magic, version, header size, n, applied_seq, generation, m,
# offsets of words, ids, post, occ, rank, bucket; element counts of occ, rank, bucket
_HEADER = struct.Struct("<8sIIqqqI4x9q")
# start, length; element offsets into occ (and rank), bucket
_SUBSTRING = struct.Struct("<HH4xqq")


@dataclass(frozen=True)
class Layout:
    """Substring lengths; substrings are consecutive bit runs covering all 256 bits."""

    lengths: tuple[int, ...]

    @property
    def starts(self) -> list[int]:
        out, pos = [], 0
        for b in self.lengths:
            out.append(pos)
            pos += b
        return out


def _split(m: int) -> tuple[int, ...]:
    b, rem = divmod(HASH_BITS, m)
    return (b + 1,) * rem + (b,) * (m - rem)


# Relative costs: a probe (cache-resident bitmap), a non-empty bucket's bounds, a candidate check.
PROBE_COST = 0.1
BUCKET_COST = 1.0
CANDIDATE_COST = 1.0
# occ + rank of all substrings together should fit in the CPU's last-level cache.
BITMAP_BUDGET = 24 << 20


def _probe_cost(length: int, flips: int, n: int) -> float:
    """Expected cost of probing all values exactly `flips` bits away in one substring."""
    load = n / 2.0**length
    return comb(length, flips) * (PROBE_COST + BUCKET_COST * -np.expm1(-load) + CANDIDATE_COST * load)


def bitmap_bytes(lengths: Sequence[int]) -> int:
    return sum(2**b // 8 + 2**b // 16 for b in lengths)


def assign_flips(lengths: Sequence[int], n: int, r: int) -> tuple[np.ndarray, float]:
    """Per-substring probe radii t with sum(t + 1) >= r + 1, greedily cheapest; and their cost.

    Pigeonhole: if every substring differed in more than t[i] bits the distance would be at least
    sum(t[i] + 1) > r, so each entry within r is found through some substring. Marginal costs rise
    with t (binomials below length/2), so adding one unit at a time to the cheapest is optimal.
    """
    t = [-1] * len(lengths)
    total = 0.0
    for _ in range(r + 1):
        best = min(range(len(lengths)), key=lambda i: _probe_cost(lengths[i], t[i] + 1, n))
        total += _probe_cost(lengths[best], t[best] + 1, n)
        t[best] += 1
    return np.asarray(t, dtype=np.int64), total


def choose_layout(n: int) -> Layout:
    """Cheapest expected search at distance 31, with the bitmaps no larger than the hashes
    (32 bytes an entry) nor than BITMAP_BUDGET."""
    if n < LINEAR_ONLY_BELOW:
        return Layout(())
    best: tuple[float, tuple[int, ...]] | None = None
    for m in range(8, MAX_SUBSTRINGS + 1):
        lengths = _split(m)
        if max(lengths) > 32 or bitmap_bytes(lengths) > min(32 * n, BITMAP_BUDGET):
            continue
        _, cost = assign_flips(lengths, n, DESIGN_DISTANCE)
        if best is None or cost < best[0]:
            best = (cost, lengths)
    return Layout(best[1]) if best else Layout(())


def _read_only(arr: np.ndarray) -> np.ndarray:
    if not arr.flags.writeable:
        return arr
    view = arr.view()
    view.flags.writeable = False
    return view


@cache
def flip_masks(length: int, flips: int) -> np.ndarray:
    """All values of `length` bits with at most `flips` bits set (none when flips < 0)."""
    masks = [0]
    if flips < 0:
        return np.zeros(0, np.int64)
    for k in range(1, flips + 1):
        masks += [sum(1 << b for b in bits) for bits in combinations(range(length), k)]
    return np.asarray(masks, np.int64)


@dataclass
class Segment:
    """Arrays of one segment (memory-mapped or in memory); `dead` marks removed entries."""

    words: np.ndarray  # (n, 4) uint64
    ids: np.ndarray  # (n,) int64
    dead: np.ndarray  # (n,) uint8, flipped in place by the writer
    layout: Layout
    table: np.ndarray  # (m, LAYOUT_COLUMNS) int64
    occ: np.ndarray  # uint64 bitmap of non-empty buckets
    rank: np.ndarray  # uint32
    bucket: np.ndarray  # uint32
    post: np.ndarray  # (m, n) uint32
    n_indexed: int
    applied_seq: int = 0
    generation: int = 0
    _flips: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Read-only views of everything the kernel reads: one compiled specialisation serves
        # memory-mapped base and in-memory delta alike (numba types read-only arrays apart),
        # and the writer still updates `dead` and the delta buffers through its own references.
        self.writable_dead = self.dead
        for name in ("words", "ids", "dead", "table", "occ", "rank", "bucket", "post"):
            setattr(self, name, _read_only(getattr(self, name)))

    def flips(self, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probe plan for distance r: radii t, flip masks and per-substring mask offsets
        (t empty: scan linearly, cheaper than probing)."""
        plan = self._flips.get(r)
        if plan is None:
            lengths = self.layout.lengths
            t = np.empty(0, np.int64)
            if lengths:
                t, cost = assign_flips(lengths, self.n_indexed, r)
                # a sequential scan costs about a tenth of a random memory touch per entry
                if cost > 0.1 * self.n_indexed:
                    t = np.empty(0, np.int64)
            if t.size:
                parts = [flip_masks(b, int(ti)) for b, ti in zip(lengths, t, strict=True)]
                offsets = np.zeros(len(parts) + 1, np.int64)
                offsets[1:] = np.cumsum([p.size for p in parts])
                plan = (t, np.concatenate(parts), offsets)
            else:
                plan = (t, np.zeros(1, np.int64), np.zeros(1, np.int64))
            plan = (_read_only(plan[0]), _read_only(plan[1]), _read_only(plan[2]))
            self._flips[r] = plan
        return plan

    def search(self, q: np.ndarray, r: int, n_total: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Positions and distances of live entries within r ([n_indexed, n_total) scanned)."""
        total = self.n_indexed if n_total is None else n_total
        t, masks, mask_off = self.flips(r)
        cap = 64
        while True:
            out_pos = np.empty(cap, np.int64)
            out_dist = np.empty(cap, np.int64)
            count = kernel.search_segment(
                q,
                self.words,
                self.dead,
                self.table,
                t,
                masks,
                mask_off,
                self.occ,
                self.rank,
                self.bucket,
                self.post,
                self.n_indexed,
                total,
                r,
                out_pos,
                out_dist,
            )
            if count <= cap:
                return out_pos[:count], out_dist[:count]
            cap = count

    writable_dead: np.ndarray = field(init=False, repr=False)

    def rebind(self, words: np.ndarray, ids: np.ndarray, dead: np.ndarray) -> Segment:
        """The same tables over (longer) arrays holding the same first n_indexed entries."""
        return Segment(
            words,
            ids,
            dead,
            self.layout,
            self.table,
            self.occ,
            self.rank,
            self.bucket,
            self.post,
            self.n_indexed,
            self.applied_seq,
            self.generation,
            self._flips,
        )


@dataclass(frozen=True)
class _Tables:
    occ: np.ndarray  # uint64 bitmap of non-empty buckets
    rank: np.ndarray  # uint32 set bits before each occ word
    bucket: np.ndarray  # uint32 start of each non-empty bucket in `order`, then n
    order: np.ndarray  # uint32 positions sorted by substring value


def _substring_tables(words: np.ndarray, start: int, length: int) -> _Tables:
    starts, order = kernel.bucket_starts(words, start, length)
    words_n = max(1, (1 << length) // 64)
    occ = np.empty(words_n, np.uint64)
    rank = np.empty(words_n, np.uint32)
    bucket = np.empty(int(kernel.count_nonempty(starts)) + 1, np.uint32)
    kernel.bucket_tables(starts, occ, rank, bucket)
    return _Tables(occ, rank, bucket, order)


def build_in_memory(words: np.ndarray, ids: np.ndarray, dead: np.ndarray, n_indexed: int) -> Segment:
    """Index the first n_indexed entries of (words, ids, dead), which may be longer buffers."""
    layout = choose_layout(n_indexed)
    m = len(layout.lengths)
    table = np.zeros((m, kernel.LAYOUT_COLUMNS), np.int64)
    occs, ranks, buckets = [], [], []
    post = np.empty((m, n_indexed), np.uint32)
    occ_off = bucket_off = 0
    head = words[:n_indexed]
    for i, (start, length) in enumerate(zip(layout.starts, layout.lengths, strict=True)):
        tb = _substring_tables(head, start, length)
        table[i] = (start, length, occ_off, bucket_off)
        occs.append(tb.occ)
        ranks.append(tb.rank)
        buckets.append(tb.bucket)
        post[i] = tb.order
        occ_off += tb.occ.size
        bucket_off += tb.bucket.size
    return Segment(
        words,
        ids,
        dead,
        layout,
        table,
        np.concatenate(occs) if occs else np.zeros(1, np.uint64),
        np.concatenate(ranks) if ranks else np.zeros(1, np.uint32),
        np.concatenate(buckets) if buckets else np.zeros(1, np.uint32),
        post,
        n_indexed,
    )


def _pad(f: BinaryIO) -> int:
    pos = f.tell()
    extra = (-pos) % ALIGN
    if extra:
        f.write(b"\0" * extra)
    return pos + extra


def _write(f: BinaryIO, arr: np.ndarray) -> None:
    if arr.size:  # an empty index is valid; memoryview cannot cast a zero-length view
        f.write(np.ascontiguousarray(arr).data.cast("B"))


def write_segment(path: Path, words: np.ndarray, ids: np.ndarray, *, applied_seq: int, generation: int) -> None:
    """Write a base segment file for (words, ids) sorted by id; fsynced, not yet renamed."""
    n = int(ids.shape[0])
    layout = choose_layout(n)
    m = len(layout.lengths)
    with open(path, "wb") as f:
        f.write(b"\0" * HEADER_SIZE)
        words_off = _pad(f)
        _write(f, np.asarray(words, dtype="<u8"))
        ids_off = _pad(f)
        _write(f, np.asarray(ids, dtype="<i8"))
        post_off = _pad(f)
        tables: list[_Tables] = []
        for start, length in zip(layout.starts, layout.lengths, strict=True):
            tb = _substring_tables(words, start, length)
            _write(f, tb.order)
            tables.append(_Tables(tb.occ, tb.rank, tb.bucket, np.zeros(0, np.uint32)))
        section_offsets = []
        section_lengths = []
        for name in ("occ", "rank", "bucket"):
            section_offsets.append(_pad(f))
            length_total = 0
            for tb in tables:
                arr = getattr(tb, name)
                _write(f, arr)
                length_total += arr.size
            section_lengths.append(length_total)
        _pad(f)
        header = _HEADER.pack(
            MAGIC,
            VERSION,
            HEADER_SIZE,
            n,
            applied_seq,
            generation,
            m,
            words_off,
            ids_off,
            post_off,
            *section_offsets,
            *section_lengths,
        )
        occ_off = bucket_off = 0
        for start, length, tb in zip(layout.starts, layout.lengths, tables, strict=True):
            header += _SUBSTRING.pack(start, length, occ_off, bucket_off)
            occ_off += tb.occ.size
            bucket_off += tb.bucket.size
        header += struct.pack("<I", zlib.crc32(header))
        f.seek(0)
        f.write(header)
        f.flush()
        os.fsync(f.fileno())


PREFETCH_CHUNK = 32 << 20


def _prefetch_in_background(path: Path, ranges: list[tuple[int, int]]) -> None:
    """Read the sections into the page cache from a daemon thread (posix_fadvise WILLNEED, which
    releases the GIL), bitmaps first, so that after a cold open (e.g. after a reboot) searches are
    soon all served from memory instead of each faulting pages in at random."""
    if not hasattr(os, "posix_fadvise"):
        return

    def run() -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return
        try:
            for offset, length in ranges:
                for start in range(offset, offset + length, PREFETCH_CHUNK):
                    size = min(PREFETCH_CHUNK, offset + length - start)
                    os.posix_fadvise(fd, start, size, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)

    threading.Thread(target=run, name="pdq-prefetch", daemon=True).start()


def read_generation(path: Path) -> int | None:
    """The generation in a base segment's header (None when missing or not a segment): a cheap
    check for whether the writer process has compacted since this process mapped the file."""
    try:
        with open(path, "rb") as f:
            raw = f.read(_HEADER.size)
    except FileNotFoundError:
        return None
    if len(raw) < _HEADER.size:
        return None
    fields = _HEADER.unpack(raw)
    return int(fields[5]) if fields[0] == MAGIC else None


def read_segment(path: Path) -> Segment:
    """Memory-map a base segment file; raises BadInput when it is not one or is truncated."""
    size = path.stat().st_size
    if size < HEADER_SIZE:
        raise BadInput(f"{path}: not a PDQ index segment (too short)", code="bad_index_file")
    with open(path, "rb") as f:
        raw = f.read(HEADER_SIZE)
    fields = _HEADER.unpack_from(raw)
    magic, version, header_size, n, applied_seq, generation, m = fields[:7]
    if magic != MAGIC:
        raise BadInput(f"{path}: not a PDQ index segment (bad magic)", code="bad_index_file")
    if version != VERSION or header_size != HEADER_SIZE or not 0 <= m <= MAX_SUBSTRINGS:
        raise BadInput(f"{path}: unsupported PDQ index version {version}", code="bad_index_file")
    words_off, ids_off, post_off, occ_off, rank_off, bucket_off, occ_len, rank_len, bucket_len = fields[7:]
    end = _HEADER.size + m * _SUBSTRING.size
    (crc,) = struct.unpack_from("<I", raw, end)
    if crc != zlib.crc32(raw[:end]):
        raise BadInput(f"{path}: PDQ index header checksum mismatch", code="bad_index_file")
    if size < max(bucket_off + 4 * bucket_len, ids_off + 8 * n):
        raise BadInput(f"{path}: PDQ index segment is truncated", code="bad_index_file")
    table = np.zeros((m, kernel.LAYOUT_COLUMNS), np.int64)
    for i in range(m):
        table[i] = _SUBSTRING.unpack_from(raw, _HEADER.size + i * _SUBSTRING.size)
    with open(path, "rb") as f:
        mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    _prefetch_in_background(
        path,
        [
            (occ_off, 8 * occ_len),
            (rank_off, 4 * rank_len),
            (bucket_off, 4 * bucket_len),
            (post_off, 4 * m * n),
            (words_off, 32 * n),
        ],
    )
    # a plain read-only ndarray over the mapping: numba and indexing take their fast paths
    mm = np.frombuffer(mapping, dtype=np.uint8)
    words = mm[words_off : words_off + 32 * n].view("<u8").reshape(n, 4)
    ids = mm[ids_off : ids_off + 8 * n].view("<i8")
    post = mm[post_off : post_off + 4 * m * n].view("<u4").reshape(m, n)
    occ = mm[occ_off : occ_off + 8 * occ_len].view("<u8") if occ_len else np.zeros(1, np.uint64)
    rank = mm[rank_off : rank_off + 4 * rank_len].view("<u4") if rank_len else np.zeros(1, np.uint32)
    bucket = mm[bucket_off : bucket_off + 4 * bucket_len].view("<u4") if bucket_len else np.zeros(1, np.uint32)
    layout = Layout(tuple(int(x) for x in table[:, kernel.LENGTH]))
    dead = np.zeros(n, np.uint8)
    return Segment(words, ids, dead, layout, table, occ, rank, bucket, post, n, applied_seq, generation)


def empty_segment() -> Segment:
    return Segment(
        np.zeros((0, 4), np.uint64),
        np.zeros(0, np.int64),
        np.zeros(0, np.uint8),
        Layout(()),
        np.zeros((0, kernel.LAYOUT_COLUMNS), np.int64),
        np.zeros(1, np.uint64),
        np.zeros(1, np.uint32),
        np.zeros(1, np.uint32),
        np.zeros((0, 0), np.uint32),
        0,
    )
