"""MD5, SHA-1 and SHA-256 bank entries in memory, like PDQ: a lookup that finds nothing (nearly every
lookup) costs a binary search and no database round trip.

The index holds the first 8 bytes of every banked value, per signal type, in a sorted array (8 bytes
an entry: 80 MB for 10M), plus a small set of values added since the array was last rebuilt. It is a
filter, not the source of truth: a value it may hold is looked up in the database, which answers
with the entry's bank, state and opinion (so a removed, disabled or edited entry is never matched
from a stale copy). It follows new entries by id; on PostgreSQL ids can commit out of order, so each
refresh reads again the last RECHECK_IDS ids below the watermark."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np

EXACT_TYPES = ("md5", "sha1", "sha256")
RECHECK_IDS = 2_000  # ids below the watermark read again on each refresh on PostgreSQL (late commits)
MERGE_AT = 50_000  # recent values kept in a set before they are merged into the sorted array


def prefix_of(value: str) -> int:
    """The first 8 bytes of a hex digest as an unsigned integer."""
    return int(value[:16], 16)


class ExactIndex:
    def __init__(self) -> None:
        self._sorted: dict[str, np.ndarray] = {t: np.empty(0, dtype=np.uint64) for t in EXACT_TYPES}
        self._recent: dict[str, set[int]] = {t: set() for t in EXACT_TYPES}
        self._lock = threading.Lock()
        self.max_id = 0  # the highest entry id seen
        self.loaded = False

    def __len__(self) -> int:
        return sum(len(a) + len(self._recent[t]) for t, a in self._sorted.items())

    def may_contain(self, signal_type: str, value: str) -> bool:
        """False: no banked entry of this type has this value. True: ask the database."""
        arr = self._sorted.get(signal_type)
        if arr is None or not self.loaded:
            return True  # a type this index does not follow, or not loaded yet: the database decides
        try:
            p = prefix_of(value)
        except ValueError:
            return True
        if p in self._recent[signal_type]:
            return True
        i = int(np.searchsorted(arr, np.uint64(p)))
        return i < len(arr) and int(arr[i]) == p

    def add(self, rows: Iterable[tuple[int, str, str]]) -> int:
        """Take (entry id, signal type, value) rows; returns how many were of a followed type."""
        n = 0
        with self._lock:
            for entry_id, signal_type, value in rows:
                self.max_id = max(self.max_id, int(entry_id))
                recent = self._recent.get(signal_type)
                if recent is None:
                    continue
                try:
                    recent.add(prefix_of(value))
                except ValueError:
                    continue
                n += 1
            for t, recent in self._recent.items():
                if len(recent) >= MERGE_AT or (not self.loaded and recent):
                    self._merge(t)
        return n

    def _merge(self, signal_type: str) -> None:
        extra = np.fromiter(self._recent[signal_type], dtype=np.uint64, count=len(self._recent[signal_type]))
        merged = np.union1d(self._sorted[signal_type], extra)  # sorted, unique
        self._sorted[signal_type] = merged  # readers see the old array or the new one, both valid
        self._recent[signal_type] = set()
