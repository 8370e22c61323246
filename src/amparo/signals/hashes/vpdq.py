"""vPDQ: the PDQ hash of each sampled video frame, as Meta's reference (facebook/ThreatExchange vpdq/).

The reference decodes with FFmpeg, converts each kept frame to RGB24 at its decoded size with
swscale, and runs PDQ on the full-resolution pixels (no working-size reduction as for still images:
that would move hashes away from the reference). Frame choice and timestamps: content/video.py.

Formats carried over:
- the reference's hash file, one frame a line: `frame_number,quality,hash,timestamp` (%.3f);
- python-threatexchange / HMA: a JSON list of "hash,quality,timestamp" strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pdqhash

from amparo.content.video import SampledFrame, Sampling, VideoInfo, VideoLimits, open_video
from amparo.errors import BadInput

NAME = "vpdq"
_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_LINES = 1_000_000


@dataclass(frozen=True)
class VpdqFrame:
    frame_number: int
    quality: int
    hash: str  # 64 hex characters
    timestamp: float  # seconds

    def to_line(self) -> str:
        return f"{self.frame_number},{self.quality},{self.hash},{self.timestamp:.3f}"

    def to_compact(self) -> str:
        return f"{self.hash},{self.quality},{self.timestamp:.3f}"

    def to_dict(self) -> dict[str, Any]:
        return {"frame": self.frame_number, "quality": self.quality, "hash": self.hash, "t": round(self.timestamp, 3)}


@dataclass(frozen=True)
class VideoHash:
    """A video's vPDQ with what is needed to reproduce it: the sampling and the video's facts."""

    frames: tuple[VpdqFrame, ...]
    sampling: Sampling
    info: VideoInfo | None = None
    decoded_frames: int = 0

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": NAME,
            "sampling": self.sampling.to_dict(),
            "frames": [f.to_dict() for f in self.frames],
            "decoded_frames": self.decoded_frames,
        }
        if self.info is not None:
            d["video"] = self.info.to_dict()
        return d


def pdq_of_frame(rgb: np.ndarray) -> tuple[str, int]:
    """PDQ of full-resolution RGB24 pixels (pdqhash wraps Meta's C++ PDQ: the reference's own code).

    Frames under 5 pixels a side get quality 0 and an all-zero hash, as in the reference."""
    h, w = rgb.shape[:2]
    if h < 5 or w < 5:
        return "0" * 64, 0
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def hash_frame(frame: SampledFrame) -> VpdqFrame:
    value, quality = pdq_of_frame(frame.rgb)
    return VpdqFrame(frame.frame_number, quality, value, frame.timestamp)


def hash_video(
    data: bytes,
    *,
    sampling: Sampling | None = None,
    limits: VideoLimits | None = None,
    on_frame: Callable[[SampledFrame, VpdqFrame], None] | None = None,
) -> VideoHash:
    """Decode once, hash every sampled frame; `on_frame` sees each frame while its pixels are at hand."""
    sampling = sampling or Sampling()
    out: list[VpdqFrame] = []
    with open_video(data, limits=limits) as src:
        for fr in src.frames(sampling):
            vf = hash_frame(fr)
            out.append(vf)
            if on_frame is not None:
                on_frame(fr, vf)
        return VideoHash(tuple(out), sampling, src.info, src.stats.decoded_frames)


# -- formats -----------------------------------------------------------------------------------


def _hash_value(value: str, where: str) -> str:
    v = value.strip().lower()
    if not _HEX.match(v):
        raise BadInput(f"{where}: malformed PDQ hash {value[:80]!r}", code="bad_hash")
    return v


def _quality(value: str, where: str) -> int:
    try:
        q = int(value.strip())
    except ValueError:
        raise BadInput(f"{where}: quality {value[:20]!r} is not an integer", code="bad_hash") from None
    if not 0 <= q <= 100:
        raise BadInput(f"{where}: quality {q} outside 0..100", code="bad_hash")
    return q


def _timestamp(value: str, where: str) -> float:
    try:
        t = float(value.strip())
    except ValueError:
        raise BadInput(f"{where}: timestamp {value[:20]!r} is not a number", code="bad_hash") from None
    if not (t >= 0 and np.isfinite(t)):
        raise BadInput(f"{where}: timestamp {t} must be finite and >= 0", code="bad_hash")
    return t


def parse_reference_lines(text: str) -> list[VpdqFrame]:
    """The reference hash file (`frame_number,quality,hash,timestamp` a line; blank lines ignored)."""
    out: list[VpdqFrame] = []
    for i, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if len(out) >= MAX_LINES:
            raise BadInput(f"more than {MAX_LINES} vPDQ frames", code="too_many_frames")
        parts = line.split(",")
        where = f"line {i}"
        if len(parts) != 4:
            raise BadInput(f"{where}: expected frame_number,quality,hash,timestamp", code="bad_hash")
        try:
            n = int(parts[0].strip())
        except ValueError:
            raise BadInput(f"{where}: frame number {parts[0][:20]!r} is not an integer", code="bad_hash") from None
        if n < 0:
            raise BadInput(f"{where}: negative frame number", code="bad_hash")
        out.append(VpdqFrame(n, _quality(parts[1], where), _hash_value(parts[2], where), _timestamp(parts[3], where)))
    return out


def format_reference_lines(frames: Iterable[VpdqFrame]) -> str:
    return "".join(f.to_line() + "\n" for f in frames)


def parse_compact_json(text: str) -> list[VpdqFrame]:
    """python-threatexchange / HMA: a JSON list of "hash,quality,timestamp" strings. Frame numbers
    are not carried in that format; they are numbered in order."""
    try:
        items = json.loads(text or "[]")
    except json.JSONDecodeError as e:
        raise BadInput(f"vPDQ JSON could not be parsed: {e.msg}", code="bad_hash") from None
    if not isinstance(items, list):
        raise BadInput("vPDQ JSON must be a list of 'hash,quality,timestamp' strings", code="bad_hash")
    if len(items) > MAX_LINES:
        raise BadInput(f"more than {MAX_LINES} vPDQ frames", code="too_many_frames")
    out: list[VpdqFrame] = []
    for i, s in enumerate(items):
        where = f"item {i}"
        if not isinstance(s, str) or s.count(",") != 2:
            raise BadInput(f"{where}: expected 'hash,quality,timestamp'", code="bad_hash")
        h, q, t = s.split(",")
        out.append(VpdqFrame(i, _quality(q, where), _hash_value(h, where), _timestamp(t, where)))
    return out


def format_compact_json(frames: Iterable[VpdqFrame]) -> str:
    return json.dumps([f.to_compact() for f in frames])


def parse_any(text: str) -> list[VpdqFrame]:
    """Either format, told apart by the first character."""
    return parse_compact_json(text) if text.lstrip().startswith("[") else parse_reference_lines(text)


def usable_frames(frames: Sequence[VpdqFrame], quality_floor: int = 50) -> list[VpdqFrame]:
    """Frames the matcher compares: quality at least the floor (the reference's quality tolerance)."""
    return [f for f in frames if f.quality >= quality_floor]
