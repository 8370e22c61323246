"""The flow for a video: decode once (hashing each sampled frame while its pixels are at hand) →
exact hashes and banked videos → per-frame cascade → facts for the policy.

- Known match first: a positive csam/ncii match of the bytes or of the frames decides, and the
  detectors never run (cascade.stop_on_known_match), as for images.
- Frames go through the image detectors as reduced copies: nudity on every sampled frame, faces
  and age only on frames whose nudity reaches cascade.faces_age_if_nudity_gte (or whose nudity
  detector failed). Provenance reads file metadata, which frames do not have; it is not run.
- The policy decides on the worst frame (its own classifications, so nudity from one frame and a
  face from another never combine) plus aggregate facts: frames checked, the share flagged, the
  worst frame's time and the flagged time ranges (Facts.extra, keys "video_*")."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from amparo.content.images import DecodedImage
from amparo.content.video import SampledFrame, Sampling, VideoLimits, reduce_frame
from amparo.domain.items import ItemKind
from amparo.domain.signals import Classification, Signal
from amparo.domain.verdicts import StageRun
from amparo.matching.matcher import LookupResult
from amparo.matching.video_matcher import VideoMatcher, VideoThresholds, time_ranges
from amparo.policy.facts import Facts
from amparo.signals.hashes.vpdq import VideoHash, VpdqFrame, hash_video

if TYPE_CHECKING:
    from amparo.pipeline import Analysis, Pipeline

FRAME_STAGES = ("nudity", "faces_age")


def video_limits(settings: Any) -> VideoLimits:
    return VideoLimits(
        max_bytes=settings.max_video_bytes,
        max_duration_s=settings.max_video_seconds,
        max_pixels=settings.max_video_pixels,
        max_decode_s=settings.max_video_decode_seconds,
    )


def video_sampling(settings: Any) -> Sampling:
    return Sampling(settings.video_seconds_per_hash, settings.video_sampling)


def hash_video_bytes(settings: Any, data: bytes) -> VideoHash:
    return hash_video(data, sampling=video_sampling(settings), limits=video_limits(settings))


def video_thresholds(pipeline: Pipeline) -> VideoThresholds:
    th = pipeline.policy.thresholds
    return VideoThresholds(
        banked_share=float(th.get("video_banked_share", 0.8)), query_share=float(th.get("video_query_share", 0.8))
    )


@dataclasses.dataclass
class _Frame:
    meta: VpdqFrame
    image: DecodedImage
    classifications: list[Classification] = dataclasses.field(default_factory=list)
    stages: list[str] = dataclasses.field(default_factory=list)


class VideoAnalyser:
    def __init__(self, pipeline: Pipeline, matcher: VideoMatcher) -> None:
        self.p = pipeline
        self.matcher = matcher

    def analyse(self, data: bytes, a: Analysis) -> Analysis:
        s = self.p.settings
        frames: list[_Frame] = []
        side = s.video_analysis_max_side

        def keep(fr: SampledFrame, vf: VpdqFrame) -> None:
            small = np.ascontiguousarray(reduce_frame(fr.rgb, side))
            img = DecodedImage(rgb=small, format="VIDEO_FRAME", width=small.shape[1], height=small.shape[0], mode="RGB")
            frames.append(_Frame(vf, img))

        t0 = time.perf_counter()
        sampling = video_sampling(s)
        vh = hash_video(data, sampling=sampling, limits=video_limits(s), on_frame=keep)
        total = (time.perf_counter() - t0) * 1000
        info = vh.info
        a.stages.append(StageRun("content", True, total, note=f"{vh.decoded_frames} frames decoded"))
        t0 = time.perf_counter()
        a.signals = [sig for h in self.p.signals if h.match_kind == "exact" and (sig := h.hash_bytes(data)) is not None]
        a.stages.append(StageRun("hashes", True, (time.perf_counter() - t0) * 1000, note=f"{len(vh.frames)} vPDQ"))
        t0 = time.perf_counter()
        exact = self.p.matcher.lookup(a.signals)
        frame_matches = self.matcher.lookup_video(
            vh.frames,
            thresholds=video_thresholds(self.p),
            interval=sampling.seconds_per_hash or 1.0 / max(1.0, info.frame_rate if info else 30.0),
        )
        a.lookup = LookupResult(
            exact.matches + frame_matches.matches,
            exact.suppressed + frame_matches.suppressed,
            exact.negatives + frame_matches.negatives,
        )
        a.stages.append(StageRun("matching", True, (time.perf_counter() - t0) * 1000))
        a.video = {
            "sampling": sampling.to_dict(),
            "video": info.to_dict() if info else {},
            "decoded_frames": vh.decoded_frames,
            "sampled_frames": len(vh.frames),
            "vpdq_quality_ok": sum(1 for f in vh.frames if f.quality >= self.matcher.quality_floor),
        }
        cascade = self.p.policy.document.cascade
        known = any(m.bank_category in ("csam", "ncii") and m.opinion == "positive" for m in a.lookup.matches)
        if known and cascade.stop_on_known_match:
            for st in ("provenance", *FRAME_STAGES):
                a.stages.append(StageRun(st, False, note="skipped: known hash match decides"))
            a.video_facts = {"video_frames_checked": 0}
            return a
        a.stages.append(StageRun("provenance", False, note="not run on video frames"))
        self._cascade(frames, a, cascade.faces_age_if_nudity_gte)
        return a

    def _classify(self, stage: str, frame: _Frame, a: Analysis) -> float:
        names = self.p.detectors.names_for_stage(stage)
        for name in names:
            t1 = time.perf_counter()
            try:
                c = self.p.detectors.get(name).classify(frame.image, b"")
                if not c.stage:
                    c = dataclasses.replace(c, stage=stage)
            except Exception as e:  # a failing detector never silently allows: the policy sees the error
                msg = f"{e.__class__.__name__}: {e}"
                c = Classification(detector=name, stage=stage, error=msg, elapsed_ms=(time.perf_counter() - t1) * 1000)
                if f"{name}: {msg}" not in a.errors:
                    a.errors.append(f"{name}: {msg}")
            c = dataclasses.replace(
                c, details={**c.details, "frame": frame.meta.frame_number, "t": frame.meta.timestamp}
            )
            frame.classifications.append(c)
        if names:
            frame.stages.append(stage)
        return len(names)

    def _cascade(self, frames: list[_Frame], a: Analysis, faces_gte: float) -> None:
        t_stage = {st: 0.0 for st in FRAME_STAGES}
        ran = {st: 0 for st in FRAME_STAGES}
        for fr in frames:
            t0 = time.perf_counter()
            if self._classify("nudity", fr, a):
                ran["nudity"] += 1
            t_stage["nudity"] += time.perf_counter() - t0
            nud = _score(fr, "nudity", "nudity")
            failed = any(c.error for c in fr.classifications if c.stage == "nudity")
            if nud >= faces_gte or failed:
                t0 = time.perf_counter()
                if self._classify("faces_age", fr, a):
                    ran["faces_age"] += 1
                t_stage["faces_age"] += time.perf_counter() - t0
        for st in FRAME_STAGES:
            if ran[st]:
                a.stages.append(StageRun(st, True, t_stage[st] * 1000, note=f"{ran[st]} of {len(frames)} frames"))
            elif self.p.detectors.names_for_stage(st):
                a.stages.append(StageRun(st, False, note=f"skipped: no frame with nudity >= {faces_gte}"))
            else:
                a.stages.append(StageRun(st, False, note="no detector registered"))
        self._summarise(frames, a)

    def _summarise(self, frames: list[_Frame], a: Analysis) -> None:
        """Pick the worst frame by the policy's own verdict on each frame, and the aggregate facts."""
        policy = self.p.policy
        nud_th = float(policy.thresholds.get("nudity", 0.5))
        worst: tuple[int, float, int] | None = None
        flagged_times: list[float] = []
        rows = []
        for i, fr in enumerate(frames):
            nud = _score(fr, "nudity", "nudity")
            if nud >= nud_th:
                flagged_times.append(fr.meta.timestamp)
            severity = 0
            if fr.classifications and (
                nud >= nud_th or any(c.error for c in fr.classifications) or "faces_age" in fr.stages
            ):
                facts = Facts(
                    kind=ItemKind.VIDEO, classifications=tuple(fr.classifications), stages_run=tuple(fr.stages)
                )
                severity = policy.evaluate(facts).decision.severity
            key = (severity, nud, -i)
            if worst is None or key > worst:
                worst = key
            rows.append({"t": round(fr.meta.timestamp, 3), "frame": fr.meta.frame_number, "nudity": round(nud, 4)})
        n = len(frames)
        if worst is not None:
            wf = frames[-worst[2]]
            a.classifications.extend(wf.classifications)
            worst_t: float | None = wf.meta.timestamp
        else:
            worst_t = None
        interval = float(a.video.get("sampling", {}).get("seconds_per_hash", 1.0) or 1.0) if a.video else 1.0
        ranges = time_ranges(flagged_times, 1.5 * interval)
        a.video_facts = {
            "video_frames_checked": n,
            "video_frames_flagged": len(flagged_times),
            "video_share_flagged": round(len(flagged_times) / n, 4) if n else 0.0,
            "video_worst_frame_t": worst_t,
            "video_flagged_ranges": ranges,
        }
        if a.video is not None:
            a.video.update({"frames": rows, "worst_frame_t": worst_t, **a.video_facts})
            a.video["flagged_ranges"] = a.video.pop("video_flagged_ranges")


def _score(fr: _Frame, stage: str, key: str) -> float:
    vals = [c.scores[key] for c in fr.classifications if c.stage == stage and not c.error and key in c.scores]
    return float(max(vals)) if vals else 0.0


def video_signals(vh: VideoHash) -> list[Signal]:
    """The bytes' hashes as signals (what `amparo hash` prints beside the vPDQ)."""
    if vh.info is None:
        return []
    return [Signal("md5", vh.info.md5), Signal("sha256", vh.info.sha256)]


MAX_CASE_FRAMES = 600  # per-frame scores kept with a case item (a 10-minute video at 1 fps)


def video_case_summary(verdict: Any) -> dict[str, Any] | None:
    """What a case item and the evidence record keep of a video's verdict: sampling, container
    facts, the flagged ranges, the worst frame, and the matched time ranges of every frame-index
    match (per bank and banked video). None for anything that is not a video."""
    v = verdict.extra.get("video") if isinstance(getattr(verdict, "extra", None), dict) else None
    if not isinstance(v, dict):
        return None
    matched = [
        {
            "bank": m.bank,
            "video_id": m.entry_id,
            "query_ranges": [list(r) for r in (m.video or {}).get("query_ranges", [])],
            "banked_ranges": [list(r) for r in (m.video or {}).get("banked_ranges", [])],
            "banked_share": (m.video or {}).get("banked_share"),
            "query_share": (m.video or {}).get("query_share"),
        }
        for m in verdict.matches
        if m.signal_type == "vpdq"
    ]
    return {
        "sampling": v.get("sampling"),
        "video": v.get("video"),
        "sampled_frames": v.get("sampled_frames"),
        "flagged_ranges": [list(r) for r in v.get("flagged_ranges") or []],
        "worst_frame_t": v.get("worst_frame_t"),
        "matched_ranges": matched,
        "frames": list(v.get("frames") or [])[:MAX_CASE_FRAMES],
    }


def video_case_signal(verdict: Any) -> list[dict[str, Any]]:
    """The summary as one entry of a case item's `signals` (type "video"; its value is a line a
    reviewer reads); [] for anything that is not a video."""
    summary = video_case_summary(verdict)
    if summary is None:
        return []

    def fmt(ranges: list[list[float]]) -> str:
        return ", ".join(f"{a:.0f}-{b:.0f} s" for a, b in ranges) or "none"

    matched = [r for m in summary["matched_ranges"] for r in m["query_ranges"]]
    line = (
        f"{summary['sampled_frames']} frames sampled; matched {fmt(matched)}; flagged {fmt(summary['flagged_ranges'])}"
    )
    return [{"type": "video", "value": line, "video": summary}]
