"""Decode video bytes from memory with PyAV (its wheels bundle FFmpeg): limits, sampling, no temp files.

Sampling rules (stored beside every hash, see `Sampling.to_dict`):
- `frame_index` (the default, Meta's vPDQ rule): keep every k-th decoded frame, counted in output
  order from 0, with k = int(seconds_per_hash x average frame rate) (at least 1), and stamp it
  frame_number / frame rate. This is what the reference hasher does, so our hashes equal its hashes.
- `timestamp`: keep the first frame at or after each multiple of seconds_per_hash, stamped with its
  presentation time. Robust for variable frame rates; not the reference's frame choice.
seconds_per_hash = 0 keeps every frame (how the reference sample hashes were made).

The container is chosen from its magic bytes and passed to FFmpeg explicitly, so FFmpeg never probes
playlist or device formats that could open other files or the network."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from amparo.errors import BadInput, TooLarge, UnsupportedMedia

SAMPLING_RULES = ("frame_index", "timestamp")
# Decoders we accept: the codecs of ordinary uploads and generators. Anything else is refused
# (415) before a decoder opens, which keeps FFmpeg's rarely used decoders away from hostile bytes.
DEFAULT_CODECS = frozenset(
    {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mpeg2video", "mpeg1video", "mjpeg", "theora", "prores", "h263"}
)


@dataclass(frozen=True)
class Sampling:
    seconds_per_hash: float = 1.0
    rule: str = "frame_index"

    def __post_init__(self) -> None:
        if not (0 <= self.seconds_per_hash <= 3600):
            raise BadInput(f"seconds_per_hash {self.seconds_per_hash} must be within 0..3600", code="bad_sampling")
        if self.rule not in SAMPLING_RULES:
            raise BadInput(f"sampling rule {self.rule!r}: one of {', '.join(SAMPLING_RULES)}", code="bad_sampling")

    def to_dict(self) -> dict[str, Any]:
        return {"seconds_per_hash": self.seconds_per_hash, "rule": self.rule}


@dataclass(frozen=True)
class VideoLimits:
    max_bytes: int = 200 * 1024 * 1024
    max_duration_s: float = 3 * 3600.0
    max_pixels: int = 3840 * 2160  # per frame
    max_side: int = 8192
    max_frames: int = 500_000  # decoded frames (not only the sampled ones)
    max_samples: int = 12_000  # sampled frames kept
    max_streams: int = 16
    max_decode_s: float = 600.0  # wall clock for the whole decode
    codecs: frozenset[str] = DEFAULT_CODECS


@dataclass(frozen=True)
class VideoInfo:
    container: str
    codec: str
    width: int
    height: int
    frame_rate: float  # average frame rate (r_frame_rate when the average is unknown), as the reference
    duration_s: float | None  # from the container; None when it does not say
    streams: int
    md5: str
    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "frame_rate": round(self.frame_rate, 6),
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
            "streams": self.streams,
            "md5": self.md5,
            "sha256": self.sha256,
            "bytes": self.size,
        }


@dataclass(frozen=True)
class SampledFrame:
    frame_number: int  # decoded frames before this one
    timestamp: float  # seconds
    rgb: np.ndarray  # HxWx3 uint8, full resolution, converted as the reference does (swscale, AREA)


@dataclass
class DecodeStats:
    decoded_frames: int = 0
    sampled_frames: int = 0
    last_timestamp: float = 0.0
    decode_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


# -- container sniffing ------------------------------------------------------------------------

_FTYP_VIDEO = (b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"qt  ", b"M4V ", b"3gp")


def sniff_video(data: bytes) -> str | None:
    """The FFmpeg demuxer name for the container the bytes start with, or None if not a video."""
    head = data[:64]
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith((b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis")):
            return None  # still-image formats in the same box structure
        return "mov"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"  # also WebM
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"FLV\x01"):
        return "flv"
    if head.startswith(b"OggS"):
        return "ogg"
    if len(data) >= 3 * 188 and data[0] == 0x47 and data[188] == 0x47 and data[376] == 0x47:
        return "mpegts"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "mpeg"
    return None


def is_video(data: bytes) -> bool:
    return sniff_video(data) is not None


# -- decoding ----------------------------------------------------------------------------------


def _import_av() -> Any:
    try:
        import av
    except ModuleNotFoundError:  # pragma: no cover - the extra is missing
        raise UnsupportedMedia("video support is not installed: pip install 'amparo[video]'") from None
    return av


class VideoSource:
    """An opened video: `info` at once, `frames(sampling)` decodes once, in one pass, single-threaded."""

    def __init__(self, data: bytes, *, limits: VideoLimits | None = None) -> None:
        self.limits = limits or VideoLimits()
        lim = self.limits
        if not data:
            raise BadInput("empty file", code="empty")
        if len(data) > lim.max_bytes:
            raise TooLarge(f"video is {len(data)} bytes; the limit is {lim.max_bytes}")
        fmt = sniff_video(data)
        if fmt is None:
            raise UnsupportedMedia("not a recognised video container")
        av = _import_av()
        self._av = av
        try:
            self._container = av.open(io.BytesIO(data), mode="r", format=fmt)
        except av.error.FFmpegError as e:
            raise BadInput(f"video could not be opened ({e.__class__.__name__})", code="bad_video") from None
        try:
            self.info, self._stream = self._inspect(data, fmt)
        except BaseException:
            self._container.close()
            raise
        self.stats = DecodeStats()

    def _inspect(self, data: bytes, fmt: str) -> tuple[VideoInfo, Any]:
        lim, c = self.limits, self._container
        if len(c.streams) > lim.max_streams:
            raise TooLarge(f"video has {len(c.streams)} streams; the limit is {lim.max_streams}")
        if not c.streams.video:
            raise UnsupportedMedia("no video stream")
        stream = c.streams.video[0]  # the first video stream, as the reference
        cc = stream.codec_context
        codec = cc.name
        if codec not in lim.codecs:
            raise UnsupportedMedia(f"video codec {codec!r} is not accepted")
        w, h = int(cc.width or 0), int(cc.height or 0)
        if w < 1 or h < 1:
            raise BadInput("video stream has no frame size", code="bad_video")
        if w > lim.max_side or h > lim.max_side or w * h > lim.max_pixels:
            raise TooLarge(f"video frames are {w}x{h}; the limit is {lim.max_pixels} pixels, sides <= {lim.max_side}")
        rate = stream.average_rate
        if not rate or rate.numerator == 0 or rate.denominator == 0:
            rate = stream.base_rate  # r_frame_rate, the reference's fallback
        fps = float(rate) if rate else 0.0
        if not fps > 0:
            raise BadInput("video frame rate is unknown or zero", code="bad_video")
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif c.duration is not None:
            duration = c.duration / 1_000_000
        if duration is not None and duration > lim.max_duration_s:
            raise TooLarge(f"video lasts {duration:.1f} s; the limit is {lim.max_duration_s:.0f} s")
        cc.thread_count = 1  # one thread per process (the deployment scales by processes)
        cc.thread_type = "SLICE"
        info = VideoInfo(
            container=fmt,
            codec=codec,
            width=w,
            height=h,
            frame_rate=fps,
            duration_s=duration,
            streams=len(c.streams),
            md5=hashlib.md5(data).hexdigest(),
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
        )
        return info, stream

    def frames(self, sampling: Sampling | None = None) -> Iterator[SampledFrame]:
        """Sampled frames in output order. Raises TooLarge / BadInput as soon as a limit is crossed."""
        sampling = sampling or Sampling()
        lim, st, stream, av = self.limits, self.stats, self._stream, self._av
        fps = self.info.frame_rate
        mod = max(1, int(sampling.seconds_per_hash * fps))
        start = stream.start_time or 0
        tb = float(stream.time_base) if stream.time_base else 0.0
        next_t = 0.0
        t0 = time.monotonic()
        try:
            for frame in self._container.decode(stream):
                n = st.decoded_frames
                st.decoded_frames += 1
                if st.decoded_frames > lim.max_frames:
                    raise TooLarge(f"video has more than {lim.max_frames} frames")
                if time.monotonic() - t0 > lim.max_decode_s:
                    raise TooLarge(f"video took longer than {lim.max_decode_s:.0f} s to decode")
                pts_s = (frame.pts - start) * tb if frame.pts is not None and tb else n / fps
                if pts_s > lim.max_duration_s:
                    raise TooLarge(f"video lasts more than {lim.max_duration_s:.0f} s")
                st.last_timestamp = max(st.last_timestamp, pts_s)
                if frame.width != self.info.width or frame.height != self.info.height:
                    fw, fh = frame.width, frame.height
                    if fw > lim.max_side or fh > lim.max_side or fw * fh > lim.max_pixels:
                        raise TooLarge(f"a video frame is {fw}x{fh}; the limit is {lim.max_pixels} pixels")
                if sampling.rule == "frame_index":
                    if n % mod:
                        continue
                    ts = n / fps
                else:
                    if pts_s + 1e-9 < next_t:
                        continue
                    ts = pts_s
                    step = sampling.seconds_per_hash
                    next_t = (int(pts_s / step) + 1) * step if step > 0 else pts_s
                st.sampled_frames += 1
                if st.sampled_frames > lim.max_samples:
                    raise TooLarge(f"video gives more than {lim.max_samples} sampled frames; sample less often")
                # swscale to RGB24 at the decoded size; the AREA filter is the reference's choice
                # (it only matters when scaling, which the default hash does not do).
                rgb = frame.to_ndarray(format="rgb24", interpolation="AREA")
                yield SampledFrame(frame_number=n, timestamp=ts, rgb=rgb)
        except (TooLarge, BadInput):
            raise
        except av.error.FFmpegError as e:
            raise BadInput(f"video could not be decoded ({e.__class__.__name__}: {e})", code="bad_video") from None
        finally:
            st.decode_s += time.monotonic() - t0
        if st.decoded_frames == 0:
            raise BadInput("video has no decodable frames", code="bad_video")

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_video(data: bytes, *, limits: VideoLimits | None = None) -> VideoSource:
    return VideoSource(data, limits=limits)


def reduce_frame(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """A smaller copy for the detectors (they look at a few hundred pixels), kept per sampled frame."""
    h, w = rgb.shape[:2]
    if max(h, w) <= max_side:
        return rgb
    from PIL import Image

    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0))
