"""Exact Hamming-distance index over 256-bit PDQ hashes, incremental and memory-mapped.

An index is a directory:

    base.pdqidx   immutable base segment (see pdq_segment), memory-mapped read-only
    delta.pdqlog  append-only log of committed change batches since that base (see pdq_delta)
    writer.lock   flock held by the one process allowed to write the files

In memory, changes since the base live in a delta: removed/replaced base entries are flagged dead,
new entries are appended to a buffer that is re-indexed (multi-index tables) whenever more than
TAIL_MAX of them are unindexed; the unindexed tail is scanned linearly. `save()` appends the
unsaved changes to the log as one committed batch; when the delta has grown past a fraction of the
base, a compaction merges base + delta into a new base file, renamed over the old one.

Concurrency: one writer (apply/add/remove/save/compact, serialised by a lock) and any number of
reader threads (search). Readers take the current `_View` (one attribute read) and never lock; the
writer builds a new view and swaps the reference. Dead flags are flipped in place; while an id is
being replaced a reader may briefly see both versions, so results are de-duplicated by id.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from amparo.errors import BadInput, Conflict
from amparo.matching import pdq_delta as delta_log
from amparo.matching import pdq_segment as segments
from amparo.matching.pdq_segment import Segment

BASE_FILE = "base.pdqidx"
LOG_FILE = "delta.pdqlog"
LOCK_FILE = "writer.lock"
HASH_BYTES = 32
MAX_DISTANCE = 256
# Unindexed delta entries scanned linearly before the delta is re-indexed (~10 µs a query).
TAIL_MAX = 4096
# save() compacts when the delta holds more changes than this or than base/8.
COMPACT_MIN_CHANGES = 65536
# add_many batches at least this large (and >= a quarter of the index) go straight into a new base.
BULK_MIN = 262144


def pdq_hex_to_bytes(value: str) -> bytes:
    """64 hex digits -> 32 bytes; anything else raises BadInput."""
    if not isinstance(value, str):
        raise BadInput("PDQ hash must be a hex string", code="bad_pdq_hash")
    text = value.strip()
    if len(text) != 2 * HASH_BYTES:
        raise BadInput(f"PDQ hash must be {2 * HASH_BYTES} hex digits, got {len(text)}", code="bad_pdq_hash")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise BadInput("PDQ hash contains non-hex characters", code="bad_pdq_hash") from None


def pdq_bytes_to_hex(value: bytes) -> str:
    """32 bytes -> 64 lowercase hex digits."""
    if not isinstance(value, bytes | bytearray | memoryview) or len(value) != HASH_BYTES:
        raise BadInput(f"PDQ hash must be {HASH_BYTES} bytes", code="bad_pdq_hash")
    return bytes(value).hex()


def _query_words(query: bytes | bytearray | memoryview | str) -> np.ndarray:
    if isinstance(query, str):
        query = pdq_hex_to_bytes(query)
    if not isinstance(query, bytes | bytearray | memoryview) or len(query) != HASH_BYTES:
        raise BadInput(f"PDQ query must be {HASH_BYTES} bytes", code="bad_pdq_hash")
    return np.frombuffer(bytes(query), "<u8")


def _check_distance(max_distance: int) -> int:
    if isinstance(max_distance, bool) or not isinstance(max_distance, int | np.integer):
        raise BadInput("max_distance must be an integer", code="bad_distance")
    if not 0 <= max_distance < MAX_DISTANCE:
        raise BadInput(f"max_distance must be in 0..{MAX_DISTANCE - 1}", code="bad_distance")
    return int(max_distance)


def _check_entries(ids: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validated (ids int64 (n,), words uint64 (n, 4)), duplicates reduced to the last one."""
    ids_a = np.asarray(ids)
    hashes_a = np.asarray(hashes)
    if ids_a.ndim != 1 or (ids_a.size and ids_a.dtype.kind not in "iu"):
        raise BadInput("ids must be a 1-d integer array", code="bad_ids")
    if hashes_a.dtype != np.uint8 or hashes_a.ndim != 2 or hashes_a.shape[1] != HASH_BYTES:
        raise BadInput(f"hashes must be a uint8 array of shape (n, {HASH_BYTES})", code="bad_pdq_hash")
    if hashes_a.shape[0] != ids_a.shape[0]:
        raise BadInput("ids and hashes differ in length", code="bad_ids")
    if ids_a.dtype.kind == "u" and ids_a.size and int(ids_a.max()) > np.iinfo(np.int64).max:
        raise BadInput("ids must fit int64", code="bad_ids")
    ids_a = ids_a.astype(np.int64, copy=False)
    words = np.ascontiguousarray(hashes_a).view("<u8").reshape(-1, 4)
    if ids_a.size > 1:
        # keep the last occurrence of each id, in input order
        _, first_rev = np.unique(ids_a[::-1], return_index=True)
        if first_rev.size != ids_a.size:
            keep = np.sort(ids_a.size - 1 - first_rev)
            ids_a, words = ids_a[keep], words[keep]
    return ids_a, words


def _to_hash_bytes(words: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(words, dtype="<u8").view(np.uint8).reshape(-1, HASH_BYTES)


@dataclass(frozen=True)
class _View:
    """What a reader searches: the base and the delta buffer up to `delta_count`."""

    base: Segment
    delta: Segment
    delta_count: int


class PDQIndex:
    """Exact PDQ Hamming index; see the module docstring for the files and the concurrency model."""

    def __init__(self, path: Path, base: Segment, *, readonly: bool) -> None:
        self._path = path
        self._readonly = readonly
        self._lock = threading.RLock()
        self._lock_fd: int | None = None
        self._compactor: threading.Thread | None = None
        self._compact_error: BaseException | None = None
        self._pending: list[delta_log.Batch] = []
        self._log_good_size = 0
        self._closed = False
        self._reset(base)

    # ---------------------------------------------------------------- opening and state

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, readonly: bool = False) -> PDQIndex:
        """Open (memory-map) the index directory at path, creating an empty one when missing.

        readonly=True neither creates nor locks nor writes files (apply/add/remove still work in
        memory): for processes that follow the database themselves while another one persists.
        """
        root = Path(path)
        if root.exists() and not root.is_dir():
            raise BadInput(f"{root}: a PDQ index is a directory", code="bad_index_file")
        lock_fd = None
        if not readonly:
            root.mkdir(parents=True, exist_ok=True)
            lock_fd = _lock_writer(root / LOCK_FILE)
        try:
            base_path = root / BASE_FILE
            if base_path.exists():
                base = segments.read_segment(base_path)
            elif readonly:
                base = segments.empty_segment()
            else:
                _install(
                    root,
                    np.zeros((0, 4), np.uint64),
                    np.zeros(0, np.int64),
                    applied_seq=0,
                    generation=0,
                )
                base = segments.read_segment(base_path)
            index = cls(root, base, readonly=readonly)
            index._lock_fd = lock_fd
            index._replay_log()
        except BaseException:
            if lock_fd is not None:
                os.close(lock_fd)
            raise
        return index

    @classmethod
    def build(
        cls,
        path: str | os.PathLike[str],
        ids: np.ndarray,
        hashes: np.ndarray,
        *,
        applied_seq: int = 0,
    ) -> PDQIndex:
        """Write a new index at path from scratch (replacing any there) and open it."""
        root = Path(path)
        ids_a, words = _check_entries(ids, hashes)
        root.mkdir(parents=True, exist_ok=True)
        lock_fd = _lock_writer(root / LOCK_FILE)
        try:
            order = np.argsort(ids_a, kind="stable")
            generation = 0
            old = root / BASE_FILE
            if old.exists():
                with contextlib.suppress(BadInput):
                    generation = segments.read_segment(old).generation + 1
            _install(root, words[order], ids_a[order], applied_seq=applied_seq, generation=generation)
        finally:
            os.close(lock_fd)
        return cls.open(root)

    def _reset(self, base: Segment, capacity: int = 1024, *, publish: bool = True) -> None:
        """Start from `base` with an empty delta (writer lock held or not yet shared)."""
        self._base = base
        self._base_dead = 0
        self._dwords = np.zeros((capacity, 4), np.uint64)
        self._dids = np.zeros(capacity, np.int64)
        self._ddead = np.zeros(capacity, np.uint8)
        self._dcount = 0
        self._dpos: dict[int, int] = {}
        self._seq = base.applied_seq
        self._saved_seq = base.applied_seq
        self._generation = base.generation
        self._delta = segments.build_in_memory(self._dwords, self._dids, self._ddead, 0)
        if publish:
            self._publish()

    def _publish(self) -> None:
        self._view = _View(self._base, self._delta, self._dcount)

    def _replay_log(self) -> None:
        log = delta_log.read_log(self._path / LOG_FILE)
        if log is None or log.generation != self._generation:
            # no log, or one left from before the last compaction: the base already holds it
            if not self._readonly:
                delta_log.write_log(self._path / LOG_FILE, self._generation, [])
                self._log_good_size = delta_log.HEADER_SIZE
            return
        for batch in log.batches:
            self._apply_batch(batch)
            self._seq = batch.applied_seq
        self._saved_seq = self._seq
        self._log_good_size = log.good_size

    def _apply_batch(self, batch: delta_log.Batch, *, publish: bool = True) -> None:
        """Replay records in order, grouping runs of the same kind."""
        kinds = batch.kinds
        if kinds.size == 0:
            return
        cuts = np.flatnonzero(np.diff(kinds)) + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, kinds.size], strict=True):
            if kinds[lo] == delta_log.KIND_REMOVE:
                self._remove(batch.ids[lo:hi])
            else:
                ids, words = _check_entries(batch.ids[lo:hi], batch.hashes[lo:hi])
                self._add(ids, words, publish=publish)

    def reload(self) -> bool:
        """For read-only indexes: when the writer process has compacted (new base generation),
        switch to the files' state. Returns True when it switched; applied_seq then is the files'
        watermark (possibly lower than before), so re-apply the database feed from it."""
        if not self._readonly:
            return False
        generation = segments.read_generation(self._path / BASE_FILE)
        if generation is None or generation == self._generation:
            return False
        with self._lock:
            base = segments.read_segment(self._path / BASE_FILE)
            log = delta_log.read_log(self._path / LOG_FILE)
            self._reset(base, publish=False)
            if log is not None and log.generation == base.generation:
                for batch in log.batches:
                    self._apply_batch(batch, publish=False)
                    self._seq = batch.applied_seq
            self._saved_seq = self._seq
            self._pending = []
            self._publish()
        return True

    # ---------------------------------------------------------------- reading

    def search(self, query: bytes, max_distance: int = 31) -> list[tuple[int, int]]:
        """(id, distance) of every entry within max_distance, sorted by distance then id."""
        q = _query_words(query)
        return self._search(q, _check_distance(max_distance))

    def search_many(self, queries: np.ndarray, max_distance: int = 31) -> list[list[tuple[int, int]]]:
        """search() for each row of a uint8 (k, 32) array."""
        arr = np.asarray(queries)
        if arr.dtype != np.uint8 or arr.ndim != 2 or arr.shape[1] != HASH_BYTES:
            raise BadInput(f"queries must be a uint8 array of shape (k, {HASH_BYTES})", code="bad_pdq_hash")
        r = _check_distance(max_distance)
        words = np.ascontiguousarray(arr).view("<u8").reshape(-1, 4)
        return [self._search(words[i], r) for i in range(words.shape[0])]

    def _search(self, q: np.ndarray, r: int) -> list[tuple[int, int]]:
        view = self._view
        pos, dist = view.base.search(q, r)
        hits = list(zip(dist.tolist(), view.base.ids[pos].tolist(), strict=True))
        if view.delta_count:
            dpos, ddist = view.delta.search(q, r, view.delta_count)
            if dpos.size:
                hits += zip(ddist.tolist(), view.delta.ids[dpos].tolist(), strict=True)
        if len(hits) > 1:
            hits.sort()
            seen: set[int] = set()
            unique = []
            for d, i in hits:
                if i not in seen:
                    seen.add(i)
                    unique.append((i, d))
            return unique
        return [(i, d) for d, i in hits]

    def __len__(self) -> int:
        return self._base.ids.shape[0] - self._base_dead + len(self._dpos)

    def __contains__(self, entry_id: object) -> bool:
        if not isinstance(entry_id, int | np.integer):
            return False
        return int(entry_id) in self._dpos or self._base_position(int(entry_id)) >= 0

    @property
    def applied_seq(self) -> int:
        """The database change sequence the in-memory state reflects."""
        return self._seq

    @property
    def path(self) -> Path:
        return self._path

    def stats(self) -> dict[str, int]:
        """Sizes for health endpoints and tests."""
        view = self._view
        return {
            "entries": len(self),
            "base_entries": int(view.base.ids.shape[0]),
            "base_removed": self._base_dead,
            "delta_entries": len(self._dpos),
            "delta_indexed": view.delta.n_indexed,
            "substrings": len(view.base.layout.lengths),
            "generation": self._generation,
            "unsaved_batches": len(self._pending),
        }

    # ---------------------------------------------------------------- writing

    def apply(
        self,
        *,
        added: Iterable[tuple[int, bytes]] = (),
        removed: Iterable[int] = (),
        seq: int | None = None,
    ) -> None:
        """Apply one change set from the database: removals first, then adds (an add of an existing
        id replaces it); then record `seq` as the applied watermark. Kept in memory until save()."""
        rm = _ids_array(removed)
        add_list = list(added)
        for item in add_list:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise BadInput("added must hold (id, 32-byte hash) pairs", code="bad_pdq_hash")
            if not isinstance(item[1], bytes | bytearray | memoryview) or len(item[1]) != HASH_BYTES:
                raise BadInput(f"PDQ hash for id {item[0]!r} must be {HASH_BYTES} bytes", code="bad_pdq_hash")
        add_ids = _ids_array(i for i, _ in add_list)
        add_hashes = np.frombuffer(b"".join(bytes(h) for _, h in add_list), np.uint8).reshape(-1, HASH_BYTES)
        ids, words = _check_entries(add_ids, add_hashes)
        if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int | np.integer)):
            raise BadInput("seq must be an integer", code="bad_seq")
        with self._lock:
            self._remove(rm)
            self._add(ids, words)
            self._record(rm, ids, words)
            if seq is not None:
                self._seq = int(seq)
        self._compact_if_delta_dominates()

    def add_many(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        """Add or replace entries: ids int64 (n,), hashes uint8 (n, 32); of duplicate ids the last
        wins."""
        ids_a, words = _check_entries(ids, hashes)
        if ids_a.size >= BULK_MIN and ids_a.size * 4 >= len(self) and not self._readonly:
            self._join_compactor()
            with self._lock:
                self._compact(extra=(ids_a, words))
            return
        with self._lock:
            self._add(ids_a, words)
            self._record(np.zeros(0, np.int64), ids_a, words)
        self._compact_if_delta_dominates()

    def _compact_if_delta_dominates(self) -> None:
        """Writer only: once the delta outgrows half the base (e.g. a first sync from the database
        in batches), merge it into a new base now, so that re-indexing the delta after each batch
        stays proportional to the base and the base grows geometrically."""
        if self._readonly or self._closed:
            return
        if len(self._dpos) + self._base_dead > max(BULK_MIN, self._base.ids.shape[0] // 2):
            self._join_compactor()
            with self._lock:
                self._compact()

    def remove_many(self, ids: Iterable[int]) -> None:
        """Remove entries by id; unknown ids are ignored."""
        rm = _ids_array(ids)
        with self._lock:
            self._remove(rm)
            self._record(rm, np.zeros(0, np.int64), np.zeros((0, 4), np.uint64))

    def _record(self, removed: np.ndarray, ids: np.ndarray, words: np.ndarray) -> None:
        if not (removed.size or ids.size):
            return
        kinds = np.r_[
            np.full(removed.size, delta_log.KIND_REMOVE, np.uint8),
            np.full(ids.size, delta_log.KIND_ADD, np.uint8),
        ]
        hashes = np.r_[np.zeros((removed.size, HASH_BYTES), np.uint8), _to_hash_bytes(words)]
        self._pending.append(delta_log.Batch(kinds, np.r_[removed, ids].astype(np.int64), hashes, 0))

    def _base_position(self, entry_id: int) -> int:
        ids = self._base.ids
        p = int(np.searchsorted(ids, entry_id))
        if p < ids.shape[0] and ids[p] == entry_id and self._base.dead[p] == 0:
            return p
        return -1

    def _kill_in_base(self, ids: np.ndarray) -> None:
        base_ids = self._base.ids
        if not ids.size or not base_ids.shape[0]:
            return
        pos = np.searchsorted(base_ids, ids)
        inside = pos < base_ids.shape[0]
        pos = pos[inside]
        ok = np.unique(pos[base_ids[pos] == ids[inside]])
        ok = ok[self._base.dead[ok] == 0]
        self._base.writable_dead[ok] = 1
        self._base_dead += int(ok.size)

    def _remove(self, ids: np.ndarray) -> None:
        self._kill_in_base(ids)
        for i in ids.tolist():
            j = self._dpos.pop(i, None)
            if j is not None:
                self._ddead[j] = 1

    def _add(self, ids: np.ndarray, words: np.ndarray, *, publish: bool = True) -> None:
        k = int(ids.size)
        if not k:
            return
        start = self._dcount
        end = start + k
        delta = self._delta
        if end > self._dids.shape[0]:
            cap = max(end, 2 * self._dids.shape[0])
            dwords = np.zeros((cap, 4), np.uint64)
            dids = np.zeros(cap, np.int64)
            ddead = np.zeros(cap, np.uint8)
            dwords[:start] = self._dwords[:start]
            dids[:start] = self._dids[:start]
            ddead[:start] = self._ddead[:start]
            self._dwords, self._dids, self._ddead = dwords, dids, ddead
            delta = delta.rebind(dwords, dids, ddead)
        self._dwords[start:end] = words
        self._dids[start:end] = ids
        self._ddead[start:end] = 0
        if end - delta.n_indexed > TAIL_MAX:
            delta = segments.build_in_memory(self._dwords, self._dids, self._ddead, end)
        self._dcount = end
        self._delta = delta
        # publish first, then retire old versions: readers may briefly see both, never neither
        if publish:
            self._publish()
        self._kill_in_base(ids)
        ddead = self._ddead
        for off, i in enumerate(ids.tolist()):
            j = self._dpos.get(i)
            if j is not None:
                ddead[j] = 1
            self._dpos[i] = start + off

    # ---------------------------------------------------------------- persisting

    def save(self, *, compact: bool | None = None, background: bool = True) -> None:
        """Append unsaved changes to the log (fsynced). Compacts when the delta is large
        (compact=None), always (True) or never (False); in a background thread by default."""
        self._check_writable()
        with self._lock:
            self._raise_compact_error()
            if self._pending or self._seq != self._saved_seq:
                batches = self._pending
                batch = delta_log.Batch(
                    np.concatenate([b.kinds for b in batches]) if batches else np.zeros(0, np.uint8),
                    np.concatenate([b.ids for b in batches]) if batches else np.zeros(0, np.int64),
                    np.concatenate([b.hashes for b in batches]) if batches else np.zeros((0, HASH_BYTES), np.uint8),
                    self._seq,
                )
                self._log_good_size = delta_log.append_batch(self._path / LOG_FILE, self._log_good_size, batch)
                self._pending = []
                self._saved_seq = self._seq
            changes = self._dcount + self._base_dead
            worthwhile = changes > max(COMPACT_MIN_CHANGES, self._base.ids.shape[0] // 8)
        if compact or (compact is None and worthwhile):
            self.compact(background=background)

    def compact(self, *, background: bool = False) -> None:
        """Merge base + delta into a new base file and swap it in; readers are not interrupted.
        With background=True it runs in a thread (the writer may keep applying meanwhile)."""
        self._check_writable()
        running = self._compactor is not None and self._compactor.is_alive()
        if running and background:
            return
        # join without holding the lock: the compaction needs it to swap
        self._join_compactor()
        if not background:
            with self._lock:
                self._compact()
            return
        self._compactor = threading.Thread(target=self._compact_in_thread, name="pdq-compact", daemon=True)
        self._compactor.start()

    def _compact_in_thread(self) -> None:
        try:
            self._compact()
        except BaseException as exc:  # surfaced by the next save/compact/close
            self._compact_error = exc

    def _raise_compact_error(self) -> None:
        if self._compact_error is not None:
            exc, self._compact_error = self._compact_error, None
            raise exc

    def _join_compactor(self) -> None:
        t = self._compactor
        if t is not None and t is not threading.current_thread():
            t.join()
        self._compactor = None
        self._raise_compact_error()

    def _compact(self, extra: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        # 1. snapshot (brief lock): entries below `count` in the delta buffers never change
        with self._lock:
            base = self._base
            count = self._dcount
            base_dead0 = base.dead.copy()
            ddead0 = self._ddead[:count].copy()
            dwords, dids = self._dwords, self._dids
            seq0 = self._seq
            generation = self._generation + 1
        # 2. merge and write without the lock
        live_b = base_dead0 == 0
        live_d = ddead0 == 0
        ids = np.concatenate([base.ids[live_b], dids[:count][live_d]])
        words = np.concatenate([base.words[live_b], dwords[:count][live_d]])
        if extra is not None:
            keep = ~np.isin(ids, extra[0])
            ids = np.concatenate([ids[keep], extra[0]])
            words = np.concatenate([words[keep], extra[1]])
        order = np.argsort(ids, kind="stable")
        ids, words = ids[order], words[order]
        del order
        tmp_base = self._path / (BASE_FILE + ".tmp")
        try:
            segments.write_segment(tmp_base, words, ids, applied_seq=seq0, generation=generation)
        except BaseException:
            tmp_base.unlink(missing_ok=True)
            raise
        del ids, words
        # 3. swap (lock): carry over what changed since the snapshot
        with self._lock:
            old_base = self._base
            removed = np.concatenate(
                [
                    old_base.ids[(old_base.dead != 0) & (base_dead0 == 0)],
                    self._dids[:count][(self._ddead[:count] != 0) & (ddead0 == 0)],
                ]
            )
            tail = np.arange(count, self._dcount)
            tail = tail[self._ddead[count : self._dcount] == 0]
            tail_ids, tail_words = self._dids[tail].copy(), self._dwords[tail].copy()
            carried = delta_log.Batch(
                np.r_[
                    np.full(removed.size, delta_log.KIND_REMOVE, np.uint8),
                    np.full(tail.size, delta_log.KIND_ADD, np.uint8),
                ],
                np.r_[removed, tail_ids].astype(np.int64),
                np.r_[np.zeros((removed.size, HASH_BYTES), np.uint8), _to_hash_bytes(tail_words)],
                self._seq,
            )
            tmp_log = self._path / (LOG_FILE + ".tmp")
            delta_log.write_log(tmp_log, generation, [carried] if carried.ids.size else [])
            # base first: a crash between the renames leaves new base + old-generation log,
            # and an old-generation log is ignored on open (state = new base at seq0)
            os.replace(tmp_base, self._path / BASE_FILE)
            os.replace(tmp_log, self._path / LOG_FILE)
            _fsync_dir(self._path)
            seq = self._seq
            new_base = segments.read_segment(self._path / BASE_FILE)
            self._reset(new_base, capacity=max(1024, 2 * tail.size), publish=False)
            self._apply_batch(carried, publish=False)
            self._publish()
            self._seq = seq
            self._saved_seq = seq
            self._pending = []
            self._log_good_size = (self._path / LOG_FILE).stat().st_size

    def _check_writable(self) -> None:
        if self._readonly:
            raise Conflict("this PDQ index was opened read-only", code="index_readonly")
        if self._closed:
            raise Conflict("this PDQ index is closed", code="index_closed")

    def close(self) -> None:
        """Wait for a running compaction and release the writer lock (unsaved changes are lost)."""
        if self._closed:
            return
        with contextlib.suppress(Exception):
            self._join_compactor()
        self._closed = True
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> PDQIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ids_array(ids: Iterable[int]) -> np.ndarray:
    if isinstance(ids, np.ndarray):
        arr = ids
    else:
        items = list(ids)
        for i in items:
            if isinstance(i, bool) or not isinstance(i, int | np.integer):
                raise BadInput(f"entry ids must be integers, got {i!r}", code="bad_ids")
        try:
            arr = np.asarray(items, dtype=np.int64)
        except OverflowError:
            raise BadInput("entry ids must fit int64", code="bad_ids") from None
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise BadInput("entry ids must be a 1-d integer sequence", code="bad_ids")
    return arr.astype(np.int64, copy=False)


def _install(root: Path, words: np.ndarray, ids: np.ndarray, *, applied_seq: int, generation: int) -> None:
    """Write base + empty log for a fresh index (ids sorted)."""
    tmp_base = root / (BASE_FILE + ".tmp")
    tmp_log = root / (LOG_FILE + ".tmp")
    segments.write_segment(tmp_base, words, ids, applied_seq=applied_seq, generation=generation)
    delta_log.write_log(tmp_log, generation, [])
    os.replace(tmp_base, root / BASE_FILE)
    os.replace(tmp_log, root / LOG_FILE)
    _fsync_dir(root)


def _fsync_dir(root: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _lock_writer(path: Path) -> int:
    """Exclusive flock so two processes never write the same index; released by close()."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # no flock on this platform: single-writer is the caller's duty
        pass
    except OSError:
        os.close(fd)
        raise Conflict(f"{path.parent}: another process is writing this PDQ index", code="index_locked") from None
    return fd
