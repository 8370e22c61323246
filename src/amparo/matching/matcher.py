"""Look signals up in the enabled banks: the PDQ index for Hamming search, an in-memory filter for exact
hashes (matching/exact_index.py); the database only for the entries a lookup finds.

Each process keeps the PDQ index memory-mapped from its own copy of the index file and applies the
database's change feed (`index_changes`) after the sequence number the index already reflects, so a
refresh is incremental and never rebuilds. Lookups keep reading the current index while a refresh
runs (the index swaps segments atomically)."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from amparo.domain.matches import SELF_SUBMITTED_SOURCE, Match
from amparo.domain.signals import Signal
from amparo.errors import Conflict
from amparo.matching.exact_index import EXACT_TYPES, RECHECK_IDS, ExactIndex
from amparo.matching.pdq_index import PDQIndex
from amparo.store import banks_repo, bulk_entries_repo
from amparo.store.bulk_entries_repo import BULK_OP
from amparo.store.database import Database

log = logging.getLogger(__name__)
MAX_PDQ_THRESHOLD = 128
_APPLY_BATCH = 200_000
# How long a missing feed seq is waited for (a transaction still committing), and the widest run of
# missing seqs treated as in flight (Matcher.refresh).
GAP_TTL_SECONDS = 60.0
MAX_GAP_SPAN = 10_000


@dataclass(frozen=True)
class LookupResult:
    matches: tuple[Match, ...]  # positive/disputed matches that stand
    suppressed: tuple[Match, ...]  # positive matches cancelled by a safe bank or a negative opinion
    negatives: tuple[Match, ...]  # the safe-bank / negative-opinion matches themselves


class Matcher:
    # The change feed this index follows and its directory under index_dir (the video frame index
    # reuses this class with its own feed: matching/video_matcher.py).
    SIGNAL_TYPE = "pdq"
    INDEX_NAME = "pdq"
    APPLY_BATCH = _APPLY_BATCH

    def __init__(self, db: Database, index_dir: Path, *, quality_floor: int = 50) -> None:
        self.db = db
        self.quality_floor = quality_floor
        index_dir.mkdir(parents=True, exist_ok=True)
        self._index_path = index_dir / self.INDEX_NAME
        self.pdq, self.owner = self._open_index()
        self._lock = threading.Lock()
        self._last_refresh = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._gaps: dict[int, float] = {}  # feed seqs not yet visible -> when first missed (monotonic)
        self._seen_above: set[int] = set()  # seqs above the watermark already applied
        # The video frame matcher reuses this class; exact hashes are the image matcher's.
        self.exact = ExactIndex() if self.SIGNAL_TYPE == "pdq" else None
        self.refresh()

    # -- refresh -------------------------------------------------------------------------------
    def refresh(self) -> int:
        """Apply database changes the index has not seen yet. Returns the number applied.

        Feed rows get their `seq` when inserted but become visible when their transaction commits,
        so on PostgreSQL a later seq can be read before an earlier one. A seq missing between rows
        read is a gap: the watermark (the index's `applied_seq`, what a restart or a reading
        replica resumes from) stays below the oldest gap until the row shows up or GAP_TTL_SECONDS
        pass (a rolled-back transaction leaves a gap for good); rows above it that were already
        applied are skipped by seq, and replaying them after a restart is harmless (an add
        replaces, rows replay in seq order)."""
        applied = 0
        with self._lock:
            if not self.owner and self.pdq.reload():
                self._seen_above.clear()  # back to the files' state: re-apply from their watermark
            watermark = self.pdq.applied_seq
            after = high = watermark
            present: list[int] = []
            while True:
                with self.db.session() as s:
                    rows = banks_repo.index_changes_after(
                        s, signal_type=self.SIGNAL_TYPE, seq=after, limit=self.APPLY_BATCH
                    )
                    if not rows and watermark > 0 and after == watermark:
                        # A database rebuilt under an old index (e.g. restored): start over.
                        latest = banks_repo.latest_index_seq(s, signal_type=self.SIGNAL_TYPE)
                        if latest < watermark:
                            log.warning("index is ahead of the database (seq %s > %s): rebuilding", watermark, latest)
                            self._reset_index()
                            self._seen_above.clear()
                            self._gaps.clear()
                            watermark = after = high = self.pdq.applied_seq
                            continue
                if not rows:
                    break
                fresh = [r for r in rows if r.seq not in self._seen_above]
                if fresh:
                    self._apply_rows(fresh)
                    applied += len(fresh)
                    self._seen_above.update(r.seq for r in fresh)
                present.extend(r.seq for r in rows)
                after = high = rows[-1].seq
                if len(rows) < self.APPLY_BATCH:
                    break
            new_mark = self._next_watermark(watermark, high, present)
            if new_mark != self.pdq.applied_seq:
                self.pdq.apply(seq=new_mark)
            if (applied or new_mark != watermark) and self.owner:
                self.pdq.save()
            if self.exact is not None:
                self._refresh_exact(self.exact)
            self._last_refresh = time.monotonic()
        return applied

    def _next_watermark(self, watermark: int, high: int, present: list[int]) -> int:
        """The highest seq below which every row has been applied (or given up on)."""
        now = time.monotonic()
        missing: set[int] = set()
        prev = watermark
        for seq in present:  # ascending
            if seq - prev - 1 > MAX_GAP_SPAN:  # a sequence jump (e.g. after a crash), not in-flight rows
                log.warning("change feed jumps from seq %s to %s: not waiting for the rows between", prev, seq)
            else:
                missing.update(range(prev + 1, seq))
            prev = seq
        self._gaps = {g: self._gaps.get(g, now) for g in missing}
        waiting = [g for g, since in self._gaps.items() if now - since < GAP_TTL_SECONDS]
        mark = min(waiting) - 1 if waiting else high
        self._seen_above = {q for q in self._seen_above if q > mark}
        return max(mark, watermark)

    def _refresh_exact(self, exact: ExactIndex) -> None:
        """Follow new exact-hash entries by id (the first call loads them all)."""
        recheck = RECHECK_IDS if exact.loaded and self.db.engine.dialect.name == "postgresql" else 0
        after = max(0, exact.max_id - recheck)
        while True:
            with self.db.session() as s:
                rows = banks_repo.exact_entries_after(s, after_id=after, types=EXACT_TYPES, limit=self.APPLY_BATCH)
            exact.add(rows)
            if len(rows) < self.APPLY_BATCH:
                break
            after = rows[-1][0]
        exact.loaded = True

    def _apply_rows(self, rows: Sequence[Any]) -> None:
        added: list[tuple[int, bytes]] = []
        removed: list[int] = []
        for n, r in enumerate(rows):
            if r.op == "add" and r.value:
                added.append((r.entry_id, bytes.fromhex(r.value)))
            elif r.op == "remove":
                removed.append(r.entry_id)
            elif r.op == BULK_OP:
                if n:
                    self.pdq.apply(added=added, removed=removed)
                added, removed = [], []
                self._apply_bulk(r.entry_id, int(r.value))
        self.pdq.apply(added=added, removed=removed)

    def _apply_bulk(self, first_id: int, last_id: int) -> None:
        """A bulk import's one feed row: load the hashes of its id range from the entries table
        and add them as one batch (the owner writes them straight into a new base segment)."""
        parts_ids: list[np.ndarray] = []
        parts_hashes: list[np.ndarray] = []
        after = first_id - 1
        while True:
            with self.db.session() as s:
                ids, hashes = bulk_entries_repo.hashes_in_range(
                    s, signal_type=self.SIGNAL_TYPE, first_id=first_id, last_id=last_id, after_id=after
                )
            if not ids.size:
                break
            parts_ids.append(ids)
            parts_hashes.append(hashes)
            after = int(ids[-1])
        if parts_ids:
            ids = np.concatenate(parts_ids)
            del parts_ids
            hashes = np.concatenate(parts_hashes)
            del parts_hashes
            self.pdq.add_many(ids, hashes)

    def _open_index(self) -> tuple[PDQIndex, bool]:
        """One process per data directory owns the index files and persists changes (the index's
        writer lock); the others (more API workers, scan workers) map the same files read-only and
        apply the change feed in memory."""
        try:
            return PDQIndex.open(self._index_path), True
        except Conflict:
            return PDQIndex.open(self._index_path, readonly=True), False

    def _reset_index(self) -> None:
        self.pdq.close()
        if self.owner:
            shutil.rmtree(self._index_path, ignore_errors=True)
        self.pdq, self.owner = self._open_index()

    def start_background_refresh(self, interval: float) -> None:
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.refresh()
                except Exception:  # keep serving with the index we have
                    log.exception("index refresh failed")

        self._thread = threading.Thread(target=loop, name="amparo-index-refresh", daemon=True)
        self._thread.start()

    def seconds_since_refresh(self) -> float:
        return time.monotonic() - self._last_refresh

    def close(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.pdq.close()

    # -- lookup --------------------------------------------------------------------------------
    def lookup(self, signals: Sequence[Signal], *, banks: Iterable[str] | None = None) -> LookupResult:
        """Every enabled entry within its bank's threshold, with safe-bank suppression applied.
        The database is read only for what the in-memory indexes found."""
        wanted = set(banks) if banks else None
        infos: list[tuple[banks_repo.EntryInfo, int]] = []
        found: dict[int, int] = {}
        exact: list[Signal] = []
        for sig in signals:
            if sig.type == "pdq":
                if sig.quality is not None and sig.quality < self.quality_floor:
                    continue
                for entry_id, d in self.pdq.search(bytes.fromhex(sig.value), self.max_threshold()):
                    found[entry_id] = min(d, found.get(entry_id, d))
            elif self.exact is None or self.exact.may_contain(sig.type, sig.value):
                exact.append(sig)
        if found or exact:
            with self.db.session() as s:
                for info in banks_repo.entries_info(s, entry_ids=found):
                    infos.append((info, found[info.entry_id]))
                for sig in exact:
                    infos.extend((i, 0) for i in banks_repo.lookup_exact(s, signal_type=sig.type, value=sig.value))
        return self._resolve(infos, wanted)

    _threshold_cache: tuple[float, int, int] = (0.0, -1, 31)

    _reach_cache: tuple[float, int, int] = (0.0, -1, 0)

    def max_threshold(self) -> int:
        """The largest threshold of any enabled bank; cached briefly (banks change rarely)."""
        at, gen, value = self._threshold_cache
        now_gen = banks_repo.banks_generation()
        if time.monotonic() - at < 2.0 and gen == now_gen:
            return value
        with self.db.session() as s:
            value = max([b.pdq_threshold for b in banks_repo.list_banks(s) if b.enabled] or [31])
        self._threshold_cache = (time.monotonic(), now_gen, value)
        return value

    def reach(self, floor: int) -> int:
        """The largest threshold of any bank, enabled or not, and at least `floor` (HMA's raw
        lookup answers from the whole index); cached as briefly as max_threshold."""
        at, gen, value = self._reach_cache
        now_gen = banks_repo.banks_generation()
        if time.monotonic() - at >= 2.0 or gen != now_gen:
            with self.db.session() as s:
                value = max([b.pdq_threshold for b in banks_repo.list_banks(s)] or [0])
            self._reach_cache = (time.monotonic(), now_gen, value)
        return max(floor, value)

    @staticmethod
    def _resolve(infos: list[tuple[banks_repo.EntryInfo, int]], wanted: set[str] | None) -> LookupResult:
        positives: list[Match] = []
        negatives: list[Match] = []
        for info, distance in infos:
            if not (info.bank_enabled and info.enabled):
                continue
            if wanted is not None and info.bank_name not in wanted:
                continue
            threshold = info.pdq_threshold if info.signal_type == "pdq" else 0
            if distance > threshold:
                continue
            m = Match(
                bank=info.bank_name,
                bank_category=info.category,
                entry_id=info.entry_id,
                signal_type=info.signal_type,
                distance=distance,
                opinion=info.opinion,
                threshold=threshold,
                negative_bank=info.negative_bank,
                self_submitted=info.bank_source == SELF_SUBMITTED_SOURCE,
            )
            (negatives if (info.negative_bank or info.opinion == "negative") else positives).append(m)
        key = lambda m: (m.distance, m.bank, m.entry_id)  # noqa: E731
        if negatives:
            # A safe match on a signal type cancels positive matches of that type that are no closer.
            suppressed = [
                m
                for m in positives
                if any(n.signal_type == m.signal_type and n.distance <= m.distance for n in negatives)
            ]
            kept = [m for m in positives if m not in suppressed]
            return LookupResult(
                tuple(sorted(kept, key=key)), tuple(sorted(suppressed, key=key)), tuple(sorted(negatives, key=key))
            )
        return LookupResult(tuple(sorted(positives, key=key)), (), ())
