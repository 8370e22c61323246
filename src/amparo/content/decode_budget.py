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
