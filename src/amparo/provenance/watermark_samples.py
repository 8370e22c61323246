"""Benign procedural images (gradients, shapes, textures, landscapes) for watermark tests/bench.

Deterministic from a seed; numpy + Pillow only. Nothing here depicts people.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter

KINDS = ("landscape", "shapes", "plasma", "stripes", "flat_gradient", "tiles")


def _plasma(rng: np.random.Generator, size: int, octaves: int = 6) -> npt.NDArray[np.float32]:
    acc = np.zeros((size, size), np.float32)
    amp, total = 1.0, 0.0
    for octave in range(octaves):
        n = 2 ** (octave + 2)
        small = rng.random((n, n)).astype(np.float32)
        layer = np.asarray(
            Image.fromarray(small, mode="F").resize((size, size), Image.Resampling.BICUBIC)
        )
        acc += amp * layer
        total += amp
        amp *= 0.55
    acc /= total
    return np.asarray((acc - acc.min()) / (np.ptp(acc) + 1e-6), np.float32)


def _colourise(field: npt.NDArray[np.float32], rng: np.random.Generator) -> Image.Image:
    a, b = rng.random(3) * 255, rng.random(3) * 255
    rgb = a[None, None, :] * (1 - field[:, :, None]) + b[None, None, :] * field[:, :, None]
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def draw_benign_image(seed: int, size: int = 1024, kind: str | None = None) -> Image.Image:
    """One benign RGB image of `size` x `size`; `kind` defaults to a seed-chosen one."""
    rng = np.random.default_rng(seed)
    kind = kind or KINDS[seed % len(KINDS)]
    if kind == "landscape":
        y = np.linspace(0, 1, size, dtype=np.float32)[:, None]
        sky = np.stack([90 + 100 * y, 150 + 80 * y, 235 - 30 * y], axis=2) * np.ones((1, size, 1))
        img = Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(img)
        for layer in range(3):
            base = size * (0.45 + 0.15 * layer)
            xs = np.linspace(0, size, 24)
            ys = base + rng.normal(0, size * 0.05, xs.size).cumsum() * 0.3
            colour = (int(40 + 30 * layer), int(110 + 40 * layer), int(50 + 10 * layer))
            pts = [(float(x), float(v)) for x, v in zip(xs, ys, strict=True)]
            draw.polygon([*pts, (size, size), (0, size)], fill=colour)
        sun = rng.uniform(0.1, 0.9) * size
        r = size * 0.06
        draw.ellipse([sun - r, size * 0.12, sun + r, size * 0.12 + 2 * r], fill=(250, 230, 150))
        texture = (_plasma(rng, size) - 0.5) * 24
        arr = np.asarray(img, np.float32) + texture[:, :, None]
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if kind == "shapes":
        bg = tuple(int(v) for v in rng.integers(0, 256, 3))
        img = Image.new("RGB", (size, size), bg)
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(12, 30))):
            x0, y0 = rng.uniform(0, size, 2)
            w, h = rng.uniform(size * 0.05, size * 0.35, 2)
            fill = tuple(int(v) for v in rng.integers(0, 256, 3))
            box = [float(x0), float(y0), float(x0 + w), float(y0 + h)]
            if rng.random() < 0.5:
                draw.ellipse(box, fill=fill)
            else:
                draw.rectangle(box, fill=fill)
        return img.filter(ImageFilter.GaussianBlur(1.0))
    if kind == "plasma":
        return _colourise(_plasma(rng, size, octaves=8), rng)
    if kind == "stripes":
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
        f = rng.uniform(3, 12)
        angle = rng.uniform(0, np.pi)
        field = 0.5 + 0.5 * np.sin(2 * np.pi * f * (np.cos(angle) * xx + np.sin(angle) * yy))
        field = 0.7 * field + 0.3 * _plasma(rng, size)
        return _colourise(field.astype(np.float32), rng)
    if kind == "flat_gradient":
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
        field = np.clip(0.6 * xx + 0.4 * yy + 0.02 * _plasma(rng, size), 0, 1)
        return _colourise(field.astype(np.float32), rng)
    if kind == "tiles":
        n = int(rng.integers(4, 12))
        cells = rng.integers(0, 256, (n, n, 3)).astype(np.uint8)
        img = Image.fromarray(cells).resize((size, size), Image.Resampling.NEAREST)
        noise = rng.normal(0, 6, (size, size, 1))
        arr = np.asarray(img, np.float32) + noise
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    raise ValueError(f"unknown kind {kind!r}")


def benign_images(count: int, size: int = 1024, first_seed: int = 0) -> Iterator[Image.Image]:
    for seed in range(first_seed, first_seed + count):
        yield draw_benign_image(seed, size)
