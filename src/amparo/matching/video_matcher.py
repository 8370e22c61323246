"""Match a video's frame hashes against banked videos through the exact PDQ frame index.

Banked frames live in a PDQIndex of their own (index_dir/vpdq), fed incrementally by the "vpdq"
change feed exactly as the image index: the same class, the same refresh (Matcher), ids are frame
rows that map back to their video and timestamp.

For each banked video V hit by the query Q, over distinct frame hashes of quality >= the floor:
- banked share  = V's hashes within V's bank threshold of some Q hash / V's hashes   (reference Pc)
- query share   = Q's hashes within the threshold of some V hash / Q's hashes         (reference Pq)
V matches when either share reaches its threshold. python-threatexchange asks Pq >= 80 % and
Pc >= 0 %, which misses a short known clip inside a long upload (Pq is then tiny); with
"either", a 10 s banked clip inside a 10 min upload matches on its banked share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from amparo.domain.matches import Match
from amparo.matching.matcher import LookupResult, Matcher
from amparo.matching.pdq_index import BULK_MIN
from amparo.store import video_repo


class FrameHash(Protocol):
    @property
    def hash(self) -> str: ...
    @property
    def quality(self) -> int: ...
    @property
    def timestamp(self) -> float: ...


@dataclass(frozen=True)
class VideoThresholds:
    banked_share: float = 0.8  # of the banked video's frames found in the query
    query_share: float = 0.8  # of the query's frames found in the banked video
    min_frames: int = 1  # distinct query hashes that must match at least


@dataclass
class _Acc:
    hit: video_repo.FrameHit
    query_hashes: set[str] = field(default_factory=set)
    banked_hashes: set[str] = field(default_factory=set)
    query_times: set[float] = field(default_factory=set)
    banked_times: set[float] = field(default_factory=set)
    min_distance: int = 256


def time_ranges(times: Iterable[float], gap: float) -> list[tuple[float, float]]:
    """Sorted timestamps merged into [start, end] ranges wherever consecutive ones are <= gap apart."""
    out: list[list[float]] = []
    for t in sorted(times):
        if out and t - out[-1][1] <= gap + 1e-6:
            out[-1][1] = t
        else:
            out.append([t, t])
    return [(round(a, 3), round(b, 3)) for a, b in out]


class VideoMatcher(Matcher):
    SIGNAL_TYPE = video_repo.FEED
    INDEX_NAME = "vpdq"

    def __init__(self, db: Any, index_dir: Any, *, quality_floor: int = 50, stale_after: float = 2.0) -> None:
        super().__init__(db, index_dir, quality_floor=quality_floor)
        # Refreshed when a lookup finds it older than this (no background thread of its own).
        self.stale_after = stale_after

    # Feed rows are applied as arrays, up to a million a batch: a bank import of thousands of videos
    # lands in one delta re-index instead of several.
    APPLY_BATCH = 1_000_000

    def _apply_rows(self, rows: Sequence[Any]) -> None:
        # Frame ids are never reused, so within a batch the last operation on an id is its state.
        last: dict[int, Any] = {}
        for r in rows:
            last[r.entry_id] = r
        adds = [r for r in last.values() if r.op == "add" and r.value]
        removed = [i for i, r in last.items() if r.op == "remove"]
        if removed:
            self.pdq.remove_many(removed)
        if adds:
            ids = np.fromiter((r.entry_id for r in adds), dtype=np.int64, count=len(adds))
            hashes = np.frombuffer(bytes.fromhex("".join(r.value for r in adds)), dtype=np.uint8).reshape(-1, 32)
            # A first sync goes straight into a new base (add_many's bulk path). Into a live index,
            # chunks below BULK_MIN land in the delta, indexed in memory, and save() compacts in
            # the background: the new frames are searchable without waiting for a new base file.
            step = len(ids) if len(self.pdq) == 0 else BULK_MIN - 1
            for start in range(0, len(ids), step):
                self.pdq.add_many(ids[start : start + step], hashes[start : start + step])
        self.pdq.apply()  # the watermark is Matcher.refresh's (it waits for feed gaps)

    def lookup_video(
        self,
        frames: Sequence[FrameHash],
        *,
        thresholds: VideoThresholds | None = None,
        interval: float = 1.0,
        banks: Iterable[str] | None = None,
    ) -> LookupResult:
        """Banked videos the query's frames match, with both shares and the matched time ranges.

        `interval`: the query's sampling interval in seconds (ranges join frames up to 1.5 apart)."""
        th = thresholds or VideoThresholds()
        if self.seconds_since_refresh() > self.stale_after:
            self.refresh()
        wanted = set(banks) if banks else None
        q_times: dict[str, list[float]] = defaultdict(list)
        for f in frames:
            if f.quality >= self.quality_floor:
                q_times[f.hash].append(float(f.timestamp))
        if not q_times or len(self.pdq) == 0:
            return LookupResult((), (), ())
        hashes = list(q_times)
        queries = np.frombuffer(bytes.fromhex("".join(hashes)), dtype=np.uint8).reshape(len(hashes), 32)
        with self.db.session() as s:
            results = self.pdq.search_many(queries, self.max_threshold())
            ids = {fid for res in results for fid, _ in res}
            info = {h.frame_id: h for h in video_repo.frame_hits(s, frame_ids=ids)}
            acc: dict[int, _Acc] = {}
            for qh, res in zip(hashes, results, strict=True):
                for fid, dist in res:
                    hit = info.get(fid)
                    if hit is None or hit.quality < self.quality_floor or not (hit.enabled and hit.bank_enabled):
                        continue
                    if dist > hit.pdq_threshold or (wanted is not None and hit.bank_name not in wanted):
                        continue
                    a = acc.setdefault(hit.video_id, _Acc(hit))
                    a.query_hashes.add(qh)
                    a.banked_hashes.add(hit.hash)
                    a.query_times.update(q_times[qh])
                    a.banked_times.add(hit.timestamp)
                    a.min_distance = min(a.min_distance, int(dist))
            denominators = video_repo.usable_hash_counts(s, video_ids=acc, quality_floor=self.quality_floor)
            intervals = {v: _interval(sm) for v, sm in video_repo.samplings(s, video_ids=acc).items()}
        positives: list[Match] = []
        negatives: list[Match] = []
        n_query = len(hashes)
        for vid, a in acc.items():
            banked_share = len(a.banked_hashes) / max(1, denominators.get(vid, 0))
            query_share = len(a.query_hashes) / n_query
            if len(a.query_hashes) < th.min_frames:
                continue
            if banked_share < th.banked_share and query_share < th.query_share:
                continue
            gap_banked = 1.5 * max(interval, intervals.get(vid, 1.0))
            m = Match(
                bank=a.hit.bank_name,
                bank_category=a.hit.category,
                entry_id=vid,
                signal_type="vpdq",
                distance=a.min_distance,
                opinion=a.hit.opinion,
                threshold=a.hit.pdq_threshold,
                negative_bank=a.hit.negative_bank,
                video=_details(a, banked_share, query_share, th, 1.5 * interval, gap_banked),
            )
            (negatives if (m.negative_bank or m.opinion == "negative") else positives).append(m)
        return _suppress(positives, negatives)


def _interval(sampling: dict[str, Any]) -> float:
    try:
        return float(sampling.get("seconds_per_hash", 1.0)) or 1.0 / 30
    except (TypeError, ValueError):
        return 1.0


def _details(a: _Acc, banked: float, query: float, th: VideoThresholds, gap_q: float, gap_b: float) -> dict[str, Any]:
    return {
        "banked_share": round(banked, 4),
        "query_share": round(query, 4),
        "banked_share_threshold": th.banked_share,
        "query_share_threshold": th.query_share,
        "matched_frames": len(a.query_hashes),
        "query_ranges": time_ranges(a.query_times, gap_q),
        "banked_ranges": time_ranges(a.banked_times, gap_b),
    }


def _suppress(positives: list[Match], negatives: list[Match]) -> LookupResult:
    """A safe-bank (or negative-opinion) video match cancels positive video matches no closer to the
    query, as for images."""
    key = lambda m: (-max(m.video["banked_share"], m.video["query_share"]) if m.video else 0, m.distance, m.entry_id)  # noqa: E731
    if not negatives:
        return LookupResult(tuple(sorted(positives, key=key)), (), ())
    best_safe = min(n.distance for n in negatives)
    suppressed = [m for m in positives if best_safe <= m.distance]
    kept = [m for m in positives if m not in suppressed]
    return LookupResult(
        tuple(sorted(kept, key=key)), tuple(sorted(suppressed, key=key)), tuple(sorted(negatives, key=key))
    )
