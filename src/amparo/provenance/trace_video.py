"""Trace a video back to the generation that made it (the video guard's outputs, video_flow.py).

Tried in order, the first that links to a ledger record wins:
  1. C2PA manifest in the MP4/MOV (names the generation id): 1.0 signed under our root, 0.6 intact
     under another signer;
  2. exact SHA-256 of a released video: 1.0;
  3. vPDQ: the query's frames (one a second, quality >= 50) against the frames of every released
     video in the ledger (generation_video_frames), within the PDQ threshold. Two shares, as for
     banked videos: of the query's frames found in the generated video, and of the generated
     video's frames found in the query (a generated clip inside a longer upload). The link is
     made when either reaches VIDEO_SHARE; confidence 0.5 + 0.4 x the larger share (0.9 when
     every frame matches). Every generated video that qualifies is listed.
Re-encoding (another codec, bitrate, size or frame rate) drops the manifest and changes the bytes;
the frames' PDQ survive it (tests: H.264 → VP9 at half size, 2-9 bits). The scan is linear over the
ledger's frames (numpy XOR + popcount), like the image PDQ scan."""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from amparo.content.video import Sampling, VideoLimits
from amparo.errors import TooLarge
from amparo.matching.video_matcher import time_ranges
from amparo.provenance.c2pa_video import read_video_manifest
from amparo.signals.hashes.vpdq import hash_video, usable_frames

if TYPE_CHECKING:
    from amparo.provenance.trace import Tracer, TraceResult

VIDEO_SHARE = 0.5
QUALITY_FLOOR = 50
MAX_VIDEO_CANDIDATES = 10


def trace_video(tracer: Tracer, data: bytes, *, limits: VideoLimits | None = None) -> TraceResult:
    from amparo.provenance.trace import (
        CONFIDENCE_C2PA_TRUSTED,
        CONFIDENCE_C2PA_UNTRUSTED,
        CONFIDENCE_SHA256,
        TraceResult,
    )

    lim = limits or VideoLimits()
    if len(data) > lim.max_bytes:
        raise TooLarge(f"the video is over {lim.max_bytes} bytes")
    steps: list[dict[str, Any]] = []
    reading = read_video_manifest(data, tracer.trust_anchor_pem)
    if reading is None:
        steps.append({"method": "c2pa", "result": "no manifest"})
    elif not reading.valid or not reading.generation_id:
        steps.append(
            {"method": "c2pa", "result": f"manifest {reading.validation_state}", "errors": list(reading.errors)}
        )
    else:
        conf = CONFIDENCE_C2PA_TRUSTED if reading.trusted else CONFIDENCE_C2PA_UNTRUSTED
        found = tracer._record("c2pa", conf, reading.generation_id, 0, {"manifest": reading.to_dict()}, steps)
        if found is not None:
            return found
    sha = hashlib.sha256(data).hexdigest()
    hits = tracer.ledger.outputs_by_sha256(sha)
    if hits:
        found = tracer._record("sha256", CONFIDENCE_SHA256, hits[0][0], hits[0][1], {"sha256": sha}, steps)
        if found is not None:
            return found
    else:
        steps.append({"method": "sha256", "result": "no exact copy"})
    found = _by_vpdq(tracer, data, lim, steps)
    if found is not None:
        return found
    return TraceResult(found=False, method=None, confidence=0.0, steps=steps)


class FrameCache:
    """The ledger's generated-video frames in memory (PDQ bits and which video each is), updated
    incrementally from the highest frame id seen; reloaded whole when rows were deleted (purge)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.last_id = 0
        self.seen = 0  # rows of the table (any quality) the cache covers
        self.bits = np.zeros((0, 32), dtype=np.uint8)
        self.group = np.zeros(0, dtype=np.int64)
        self.codes: dict[tuple[str, int], int] = {}
        self.keys: list[tuple[str, int]] = []

    @property
    def count(self) -> int:
        return len(self.group)

    def refresh(self, ledger: Any) -> None:
        from amparo.provenance.trace import _pdq_bits

        with self.lock:
            rows, (total, top, newer) = ledger.video_frames_after(self.last_id, min_quality=QUALITY_FLOOR)
            if total != self.seen + newer:  # rows went (purge) or came in under a lower id: reload
                self._reset()
                rows, (total, top, newer) = ledger.video_frames_after(0, min_quality=QUALITY_FLOOR)
            if rows:
                codes = self.codes
                new_group = np.fromiter(
                    (codes.setdefault((r[1], int(r[2])), len(codes)) for r in rows), dtype=np.int64, count=len(rows)
                )
                self.keys = list(codes)
                self.bits = np.concatenate([self.bits, _pdq_bits([r[3] for r in rows])])
                self.group = np.concatenate([self.group, new_group])
            self.last_id, self.seen = max(self.last_id, top), total


def _by_vpdq(tracer: Tracer, data: bytes, limits: VideoLimits, steps: list[dict[str, Any]]) -> TraceResult | None:
    from amparo.provenance.trace import hamming

    vh = hash_video(data, sampling=Sampling(1.0), limits=limits)
    query = usable_frames(list(vh.frames), QUALITY_FLOOR)
    if not query:
        steps.append({"method": "vpdq", "result": "no frame of quality >= 50 to compare"})
        return None
    cache = getattr(tracer, "_video_frames", None)
    if not isinstance(cache, FrameCache):
        cache = FrameCache()
        setattr(tracer, "_video_frames", cache)  # noqa: B010 (one per Tracer: the API keeps its tracer)
    cache.refresh(tracer.ledger)
    if not cache.count:
        steps.append({"method": "vpdq", "result": "no generated video in the ledger"})
        return None
    near = np.stack([hamming(q.hash, cache.bits) <= tracer.pdq_threshold for q in query])  # (query, stored)
    group, keys = cache.group, cache.keys
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(group[order]) != 0])
    per_group = np.maximum.reduceat(near[:, order], starts, axis=1)  # (query, generated video)
    q_share = per_group.mean(axis=0)
    g_share = np.bincount(group, weights=near.any(axis=0)) / np.bincount(group)
    scored: list[dict[str, Any]] = []
    for k in np.flatnonzero(np.maximum(q_share, g_share) >= VIDEO_SHARE):
        gid, index = keys[k]
        q_times = [query[i].timestamp for i in np.flatnonzero(per_group[:, k])]
        best = max(float(q_share[k]), float(g_share[k]))
        scored.append(
            {
                "generation_id": gid,
                "output_index": int(index),
                "query_share": round(float(q_share[k]), 4),
                "generated_share": round(float(g_share[k]), 4),
                "query_ranges": time_ranges(q_times, 1.5),
                "confidence": round(0.5 + 0.4 * best, 4),
            }
        )
    if not scored:
        steps.append({"method": "vpdq", "result": "no generated video shares enough frames", "frames": len(query)})
        return None
    scored.sort(key=lambda c: (-max(c["query_share"], c["generated_share"]), -c["query_share"]))
    top = scored[0]
    evidence = {**top, "frames": len(query), "threshold": tracer.pdq_threshold, "share_needed": VIDEO_SHARE}
    return tracer._record(
        "vpdq",
        top["confidence"],
        top["generation_id"],
        top["output_index"],
        evidence,
        steps,
        scored[1:MAX_VIDEO_CANDIDATES],
    )
