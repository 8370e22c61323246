"""A decode budget for one image: pixels over all decoded frames, and wall-clock time.

An animation is decoded frame by frame at full canvas size, and GIF, APNG and animated WebP can only
reach frame N by decoding every frame before it. A per-frame pixel limit therefore does not bound the
work: a few hundred bytes can declare 16 frames of 1x1 px on an 8000x8000 canvas. The budget is
checked from the header (canvas x frames) before any pixel is decoded, then spent frame by frame."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from amparo.errors import TooLarge


@dataclass
class DecodeBudget:
    max_pixels: int  # over all frames decoded, sequential decodes included
    max_seconds: float
    spent_pixels: int = 0
    started: float = field(default_factory=time.monotonic)

    def check_header(self, *, width: int, height: int, frames: int) -> None:
        """Refuse before decoding when the declared canvas times the frames to decode is over budget."""
        total = width * height * max(1, frames)
        if total > self.max_pixels:
            raise TooLarge(
                f"animated image refused: {width}x{height} canvas x {frames} frames is {total} pixels "
                f"to decode; the limit is {self.max_pixels}",
                code="decode_budget",
            )

    def spend(self, pixels: int) -> None:
        """Account for one decoded frame; refuse once pixels or time run out."""
        self.spent_pixels += pixels
        if self.spent_pixels > self.max_pixels:
            raise TooLarge(f"image refused: over the decode budget of {self.max_pixels} pixels", code="decode_budget")
        if time.monotonic() - self.started > self.max_seconds:
            raise TooLarge(f"image refused: decoding took over {self.max_seconds:g} s", code="decode_budget")


# More frames than this is refused before the decoder walks them: counting frames is itself work
# (Pillow steps through a GIF frame by frame in Python), and 50 MiB holds millions of 15-byte frames.
MAX_DECLARED_FRAMES = 10_000


def check_gif_frame_count(data: bytes, limit: int = MAX_DECLARED_FRAMES) -> None:
    """Count a GIF's image descriptors by walking its block structure, stopping past `limit`."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        return  # not a GIF (or too short): the decoder reports it
    pos = 13
    if data[10] & 0x80:
        pos += 3 * (2 ** ((data[10] & 7) + 1))
    frames = 0
    n = len(data)
    while pos < n:
        block = data[pos]
        if block == 0x3B:  # trailer
            return
        if block == 0x21:  # extension: label, then sub-blocks
            pos += 2
        elif block == 0x2C:  # image descriptor (10 bytes), optional local colour table, LZW code size
            frames += 1
            if frames > limit:
                raise TooLarge(f"animated image refused: more than {limit} frames", code="decode_budget")
            if pos + 10 > n:
                return
            flags = data[pos + 9]
            pos += 10 + (3 * (2 ** ((flags & 7) + 1)) if flags & 0x80 else 0) + 1
        else:
            return  # corrupt: the decoder reports it
        while pos < n and data[pos]:  # data sub-blocks, each led by its length, ended by a zero
            pos += data[pos] + 1
        pos += 1
