"""Benign test images: encoders and the sample pictures that ship with scikit-image."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
# Sample photos and pictures shipped inside scikit-image (none shows nudity; astronaut and
# camera show adults' faces).
SKIMAGE_SAMPLES = (
    "astronaut",
    "camera",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "logo",
    "coins",
    "moon",
    "page",
    "clock",
)


def encode(rgb: np.ndarray, fmt: str = "PNG", **params: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **params)
    return buf.getvalue()


def skimage_rgb(name: str) -> np.ndarray:
    import skimage.data as data  # a dev dependency: missing it must fail, not skip
    arr = np.asarray(getattr(data, name)())
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
    return np.ascontiguousarray(arr.astype(np.uint8))


def procedural(seed: int, width: int = 512, height: int = 512) -> np.ndarray:
    """A benign drawn picture: a colour gradient with a few ellipses and rectangles."""
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [(x / max(width - 1, 1)) * 255, (y / max(height - 1, 1)) * 255, np.full_like(x, 128.0)], -1
    )
    img = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = (
            x0 + int(rng.integers(8, width // 2 + 9)),
            y0 + int(rng.integers(8, height // 2 + 9)),
        )
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    return np.asarray(img)


def paste_scaled(
    canvas: np.ndarray, picture: np.ndarray, size: int, at: tuple[int, int]
) -> np.ndarray:
    """`canvas` with `picture` resized to size x size pasted at (x, y)."""
    out = canvas.copy()
    small = np.asarray(Image.fromarray(picture).resize((size, size), Image.Resampling.LANCZOS))
    x, y = at
    out[y : y + size, x : x + size] = small
    return out
