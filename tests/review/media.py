"""Benign test media, drawn here: a landscape with a sun and hills (POLICY.md test data rules)."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw


def draw_landscape(seed: int = 0, size: tuple[int, int] = (480, 320), fmt: str = "PNG") -> bytes:
    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size)
    d = ImageDraw.Draw(img)
    top = (rng.randint(40, 90), rng.randint(110, 160), rng.randint(200, 250))
    for y in range(h):  # sky gradient
        t = y / h
        d.line(
            [(0, y), (w, y)],
            fill=(int(top[0] + 120 * t), int(top[1] + 80 * t), int(top[2] - 20 * t)),
        )
    sx, sy, r = rng.randint(60, w - 60), rng.randint(30, h // 3), rng.randint(18, 34)
    d.ellipse([sx - r, sy - r, sx + r, sy + r], fill=(250, 215, 90))
    for i in range(3):  # hills
        base = h * (0.55 + 0.12 * i)
        col = (40 + 30 * i, 120 - 15 * i + rng.randint(-10, 10), 50 + 10 * i)
        pts = [(0, h)]
        for x in range(0, w + 40, 40):
            pts.append((x, base - rng.randint(0, 50)))
        pts.append((w, h))
        d.polygon(pts, fill=col)
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()
