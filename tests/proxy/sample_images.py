"""Benign images the proxy tests draw themselves, and the transformations a copy goes through."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def png_bytes(size: int = 256, seed: int = 0) -> bytes:
    """A benign drawn picture (gradient and squares)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    a = np.stack([(x * 255 // size), (y * 255 // size), np.full_like(x, 90 + seed * 7 % 100)], -1)
    a = a.astype(np.uint8)
    for _ in range(6):
        x0, y0 = rng.integers(0, size - size // 4, 2)
        a[y0 : y0 + size // 5, x0 : x0 + size // 5] = rng.integers(0, 256, 3)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    return buf.getvalue()


def reencode_resize_crop(data: bytes, *, quality: int = 75, keep: float = 0.9) -> bytes:
    """JPEG at `quality`, half size and back, then a centre crop keeping `keep` of each side
    (0.9: a 10 % crop). The result carries no C2PA manifest."""
    with Image.open(io.BytesIO(data)) as img:
        rgb = img.convert("RGB")
    buf = io.BytesIO()
    rgb.save(buf, "JPEG", quality=quality)
    with Image.open(io.BytesIO(buf.getvalue())) as j:
        rgb = j.convert("RGB")
    w, h = rgb.size
    rgb = rgb.resize((w // 2, h // 2), Image.Resampling.BICUBIC).resize((w, h), Image.Resampling.BICUBIC)
    cw, ch = int(w * keep), int(h * keep)
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    rgb = rgb.crop((x0, y0, x0 + cw, y0 + ch))
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=quality)
    return out.getvalue()
