"""Image transformations the watermark must survive, and the shared benign image folder."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

SHARED_PDQ = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "pdq"
RGBArray = npt.NDArray[np.uint8]


def shared_pdq_dir() -> Path:
    assert SHARED_PDQ.is_dir(), f"benign test data not found at {SHARED_PDQ}"
    return SHARED_PDQ


def jpeg(a: RGBArray, quality: int) -> RGBArray:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=quality)  # Pillow default: 4:2:0 chroma
    with Image.open(io.BytesIO(buf.getvalue())) as img:
        return np.asarray(img.convert("RGB"))


def half_and_back(a: RGBArray) -> RGBArray:
    h, w = a.shape[:2]
    small = Image.fromarray(a).resize((w // 2, h // 2), Image.Resampling.BICUBIC)
    return np.asarray(small.resize((w, h), Image.Resampling.BICUBIC))


def crop_keep(a: RGBArray, keep: float, anchor: str) -> RGBArray:
    """Keep `keep` of width and height; anchor top-left, centre or bottom-right."""
    h, w = a.shape[:2]
    ch, cw = int(h * keep), int(w * keep)
    y0, x0 = {"tl": (0, 0), "c": ((h - ch) // 2, (w - cw) // 2), "br": (h - ch, w - cw)}[anchor]
    return a[y0 : y0 + ch, x0 : x0 + cw]


Transform = Callable[[RGBArray], RGBArray]
BAR_TRANSFORMS: dict[str, Transform] = {
    "none": lambda a: a,
    "jpeg75": lambda a: jpeg(a, 75),
    "half_and_back": half_and_back,
    "crop90_top_left": lambda a: crop_keep(a, 0.9, "tl"),
    "crop90_centre": lambda a: crop_keep(a, 0.9, "c"),
    "crop90_bottom_right": lambda a: crop_keep(a, 0.9, "br"),
    "crop_area10_centre": lambda a: crop_keep(a, 0.9487, "c"),
    "jpeg75+half": lambda a: half_and_back(jpeg(a, 75)),
    "jpeg75+half+crop90_centre": lambda a: crop_keep(half_and_back(jpeg(a, 75)), 0.9, "c"),
    "crop90_centre+half+jpeg75": lambda a: jpeg(half_and_back(crop_keep(a, 0.9, "c")), 75),
}
