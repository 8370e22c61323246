"""Scan files: workers (one process per core, one thread each) hash every image and video (vPDQ,
one frame a second, as the reference); the parent looks the hashes up in the banks and the frame
index (fast) and writes one result per file. With `full=True` each worker runs the whole pipeline
(detectors included, every sampled frame of a video) on its own read-only Service."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".jfif"})
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".3gp", ".webm", ".mkv", ".avi", ".flv", ".ogv", ".ts", ".mts", ".mpg", ".mpeg"}
)
MEDIA_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES
VIDEO_MAX_BYTES = 200 * 1024 * 1024  # content/video.py's default limit


def walk(paths: Iterable[str], *, all_files: bool = False) -> Iterator[Path]:
    """Files under the given paths (images by suffix unless all_files); missing paths are yielded so the
    caller reports them."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for f in sorted(files):
                    fp = Path(root) / f
                    if all_files or fp.suffix.lower() in MEDIA_SUFFIXES:
                        yield fp
        else:
            yield path


@dataclass(frozen=True)
class FileResult:
    path: str
    signals: dict[str, Any] | None = None
    verdict: dict[str, Any] | None = None
    error: str | None = None


def _init_worker() -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"


def hash_file(
    path: str, max_bytes: int = 50 * 1024 * 1024, max_pixels: int = 80_000_000, max_video_bytes: int = VIDEO_MAX_BYTES
) -> FileResult:
    from amparo.content.video import is_video
    from amparo.signals.hashes.pdq import pdq_of_bytes

    try:
        size = os.path.getsize(path)
        if size > max(max_bytes, max_video_bytes):
            return FileResult(path, error=f"too_large: {size} bytes > {max(max_bytes, max_video_bytes)}")
        data = Path(path).read_bytes()
        sums = {
            "md5": hashlib.md5(data).hexdigest(),
            "sha1": hashlib.sha1(data).hexdigest(),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        if is_video(data):
            return FileResult(path, signals={"kind": "video", **sums, **_vpdq(data, max_video_bytes)})
        if size > max_bytes:
            return FileResult(path, error=f"too_large: {size} bytes > {max_bytes}")
        pdq, quality = pdq_of_bytes(data, max_pixels=max_pixels)
        return FileResult(path, signals={"pdq": pdq, "pdq_quality": quality, **sums})
    except Exception as e:  # unreadable files are reported and skipped; the scan goes on
        return FileResult(path, error=f"{e.__class__.__name__}: {getattr(e, 'message', e)}")


def _vpdq(data: bytes, max_bytes: int) -> dict[str, Any]:
    from amparo.content.video import Sampling, VideoLimits
    from amparo.signals.hashes.vpdq import hash_video

    vh = hash_video(data, sampling=Sampling(1.0), limits=VideoLimits(max_bytes=max_bytes))
    return {
        "vpdq": [f.to_dict() for f in vh.frames],
        "sampling": vh.sampling.to_dict(),
        "duration_s": vh.info.duration_s if vh.info else None,
    }


def video_frames(signals: dict[str, Any]) -> list[Any]:
    """The VpdqFrames of a video result's `vpdq` list (for the frame index lookup)."""
    from amparo.signals.hashes.vpdq import VpdqFrame

    return [VpdqFrame(int(f["frame"]), int(f["quality"]), str(f["hash"]), float(f["t"])) for f in signals["vpdq"]]


_service: Any = None


def _init_full_worker() -> None:
    _init_worker()
    global _service
    from amparo.service import Service
    from amparo.settings import Settings

    _service = Service(Settings(), migrate=False)


def check_file(path: str) -> FileResult:
    from amparo.content.video import is_video
    from amparo.domain.items import Context, Item

    try:
        data = Path(path).read_bytes()
        ctx = Context(surface="scan", source=path)
        item = Item.from_video(data, ctx) if is_video(data) else Item.from_image(data, ctx)
        v = _service.pipeline.check(item, record=False)
        return FileResult(path, verdict=v.to_dict())
    except Exception as e:
        return FileResult(path, error=f"{e.__class__.__name__}: {getattr(e, 'message', e)}")


def scan_files(paths: list[str], *, workers: int, full: bool = False, chunksize: int = 8) -> Iterator[FileResult]:
    if workers <= 1:
        if full:
            _init_full_worker()
        for p in paths:
            yield check_file(p) if full else hash_file(p)
        return
    init = _init_full_worker if full else _init_worker
    fn = check_file if full else hash_file
    with ProcessPoolExecutor(max_workers=workers, initializer=init) as pool:
        yield from pool.map(fn, paths, chunksize=chunksize)
