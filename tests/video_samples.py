"""Benign test videos drawn by the tests: moving shapes and text on coloured backgrounds, encoded in memory.

`scene` picks the content so that different scenes hash far apart and the same scene, re-encoded,
hashes close. Nothing here is fetched."""

from __future__ import annotations

import io
from fractions import Fraction
from functools import cache, lru_cache

import av
import numpy as np
from PIL import Image, ImageDraw


@lru_cache(maxsize=64)
def _scene(scene: int, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[float, ...]]]:
    """The fixed parts of a scene: its background ramp, wave pattern, colour weights and shapes."""
    w, h = size
    rng = np.random.default_rng(scene * 7919 + 1)
    base = rng.integers(30, 220, size=3).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h) * 90
    # A scene-specific wave pattern gives PDQ's 16x16 DCT something to hold on to (quality >= 50).
    fx, fy, px = rng.uniform(3, 9), rng.uniform(3, 9), rng.uniform(0, 1)
    wave_x = np.sin(2 * np.pi * (fx * xx / w + px))
    weights = rng.uniform(0.6, 1.0, size=3).astype(np.float32)
    shapes = [
        (
            rng.uniform(0.06, 0.18) * min(w, h),
            rng.uniform(0.05, 0.25),
            rng.uniform(0, 2 * np.pi),
            *rng.integers(0, 256, 3),
        )
        for _ in range(10)
    ]
    return base, ramp + 0, np.stack([wave_x, fy * yy / h]), [weights, *shapes]  # type: ignore[list-item]


def frame_image(scene: int, t: float, size: tuple[int, int]) -> np.ndarray:
    """One frame of scene `scene` at time t seconds: a gradient with a wave pattern, ten moving shapes
    and a caption. Scenes differ in colours, layout and motion; within a scene, each second differs."""
    w, h = size
    base, ramp, wave, rest = _scene(scene, size)
    weights, shapes = rest[0], rest[1:]
    field = ramp + 0.25 * np.sin(t * 0.7 + scene) * 90 + 45 * wave[0] * np.cos(2 * np.pi * (wave[1] + 0.05 * t))
    bg = np.clip(base[None, None, :] + field[..., None] * weights, 0, 255).astype(np.uint8)
    img = Image.fromarray(bg)
    d = ImageDraw.Draw(img)
    for k, (r, speed, phase, *colour) in enumerate(shapes):
        cx = (0.5 + 0.4 * np.sin(phase + t * speed * (k + 1))) * w
        cy = (0.5 + 0.4 * np.cos(phase * 1.3 + t * speed * (k + 2))) * h
        box = [cx - r, cy - r, cx + r, cy + r]
        fill = tuple(int(c) for c in colour)
        if k % 2:
            d.ellipse(box, fill=fill)
        else:
            d.rectangle(box, fill=fill)
    d.text((w * 0.05, h * 0.85), f"scene {scene} t={int(t)}", fill=(255, 255, 255))
    return np.asarray(img)


def make_video(
    seconds: float,
    *,
    scene: int = 0,
    fps: Fraction | int = 30,
    size: tuple[int, int] = (320, 180),
    codec: str = "libx264",
    container: str = "mp4",
    start_t: float = 0.0,
    scenes: list[tuple[float, int, float]] | None = None,
    bframes: int = 2,
) -> bytes:
    """Encode a benign video. `scenes`: (from_second, scene, scene_time_offset) switches, so a test can
    splice a clip of one scene into another scene's video."""
    rate = Fraction(fps)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "bf": str(bframes), "crf": "23"}
        n = int(round(seconds * rate))
        for i in range(n):
            t = start_t + float(i / rate)
            sc, offset = scene, 0.0
            for since, other, off in scenes or []:
                if t >= since:
                    sc, offset = other, off - since
            frame = av.VideoFrame.from_ndarray(frame_image(sc, t + offset, size), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


CLIP_SCENE, BENIGN_SCENE = 7, 1


@cache
def known_clip() -> bytes:
    """The banked 10 s clip: its own encoding (320x180, 10 fps)."""
    return make_video(10, scene=CLIP_SCENE, fps=10, size=(320, 180))


@cache
def long_upload(seconds: int = 600, clip_at: int | None = 300) -> bytes:
    """A benign upload (1 fps, 256x144) with the clip's 10 seconds re-encoded inside at `clip_at`."""
    scenes = (
        [(float(clip_at), CLIP_SCENE, 0.0), (float(clip_at + 10), BENIGN_SCENE, float(clip_at + 10))]
        if clip_at is not None
        else []
    )
    return make_video(seconds, scene=BENIGN_SCENE, fps=1, size=(256, 144), scenes=scenes)
