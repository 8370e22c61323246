"""What the video guard keeps of a released video: the signed MP4 and its two previews, on disk.

Files live under <data_dir>/proxy_videos/<sha256(video id)>/ (0700 directory, 0600 files), so a
listing does not give the ids the routes take. They are served only through the authenticated
content route, until the job's expires_at; `sweep()` removes expired ones. Blocked videos are
never written here: they go to the evidence vault.

The previews are drawn from the frames the scan saw (the thumbnail is the first sampled frame, the
spritesheet a grid of the sampled frames), never taken from the generator: no byte is served that
was not checked."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import time
from pathlib import Path

import numpy as np
from PIL import Image

VIDEO_SUBDIR = "proxy_videos"
FILES = {
    "video": ("video.mp4", "video/mp4"),
    "thumbnail": ("thumbnail.webp", "image/webp"),
    "spritesheet": ("spritesheet.jpg", "image/jpeg"),
}
THUMBNAIL_SIDE = 720
SPRITE_TILE_WIDTH = 160
SPRITE_COLUMNS = 5
SPRITE_MAX_TILES = 50


class VideoFiles:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _dir(self, video_id: str) -> Path:
        return self.root / hashlib.sha256(video_id.encode("ascii")).hexdigest()

    def put(self, video_id: str, variant: str, data: bytes) -> None:
        d = self._dir(video_id)
        d.mkdir(exist_ok=True, mode=0o700)
        path = d / FILES[variant][0]
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def get(self, video_id: str, variant: str) -> tuple[bytes, str] | None:
        name, mime = FILES[variant]
        try:
            return (self._dir(video_id) / name).read_bytes(), mime
        except FileNotFoundError:
            return None

    def delete(self, video_id: str) -> None:
        shutil.rmtree(self._dir(video_id), ignore_errors=True)

    def sweep(self, max_age_s: float) -> int:
        cutoff = time.time() - max_age_s
        removed = 0
        for d in self.root.iterdir():
            try:
                if d.is_dir() and d.stat().st_mtime < cutoff:
                    shutil.rmtree(d, ignore_errors=True)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


def thumbnail(rgb: np.ndarray) -> bytes:
    img = Image.fromarray(rgb)
    img.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=85)
    return buf.getvalue()


def spritesheet(frames: list[np.ndarray]) -> bytes:
    """A grid of up to SPRITE_MAX_TILES sampled frames (evenly picked), SPRITE_COLUMNS a row."""
    if len(frames) > SPRITE_MAX_TILES:
        picks = [frames[int(i * len(frames) / SPRITE_MAX_TILES)] for i in range(SPRITE_MAX_TILES)]
    else:
        picks = frames
    h, w = picks[0].shape[:2]
    tw, th = SPRITE_TILE_WIDTH, max(1, round(SPRITE_TILE_WIDTH * h / w))
    cols = min(SPRITE_COLUMNS, len(picks))
    rows = (len(picks) + cols - 1) // cols
    sheet = Image.new("RGB", (tw * cols, th * rows))
    for i, f in enumerate(picks):
        sheet.paste(Image.fromarray(f).resize((tw, th)), ((i % cols) * tw, (i // cols) * th))
    buf = io.BytesIO()
    sheet.save(buf, "JPEG", quality=85)
    return buf.getvalue()
