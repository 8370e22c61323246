"""Detector for the fixed 48-bit watermark Stable Diffusion XL pipelines embed (no torch).

SDXL (Stability `generative-models`, copied into diffusers) embeds 0xB3EC907BB19E with
invisible-watermark's `dwtDct` method. This re-implements that method's decoder with numpy and
PyWavelets so production code needs neither `imwatermark` nor the torch it imports:
OpenCV's integer BGR->YUV conversion, Haar DWT of the U channel, 4x4 blocks of the approximation
band, the largest non-DC coefficient of each block modulo 36, bits assigned cyclically and
averaged. The verdict uses the thresholds of Stability's scripts/demo/detect.py (matching bits
out of 48). diffusers hands the encoder RGB arrays while the library assumes BGR, so both orders
are tried and the better one reported. The mark is weak (JPEG with 4:2:0 chroma or a resize
usually erases it) and unkeyed: a hint that an image came out of SDXL, never evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pywt

from amparo.provenance.watermark_signal import ImageInput, to_rgb_array

SDXL_WATERMARK_MESSAGE = 0xB3EC907BB19E
SDXL_WATERMARK_BITS = np.array(
    [(SDXL_WATERMARK_MESSAGE >> (47 - i)) & 1 for i in range(48)], dtype=np.uint8
)
_SCALE = 36.0
_BLOCK = 4
_MIN_PIXELS = 256 * 256
# Stability's detect.py: <=27 none, <=33 partial, <=35 likely, >=36 very likely.
_VERDICTS = ((27, "none"), (33, "partial"), (35, "likely"), (48, "very_likely"))


@dataclass(frozen=True)
class SdxlReading:
    matching_bits: int  # out of 48, in the better channel order
    verdict: str  # none | partial | likely | very_likely
    channel_order: str  # "rgb" (diffusers' order) or "bgr" (the library's documented order)
    bits: tuple[int, ...]

    @property
    def detected(self) -> bool:
        return self.verdict in ("likely", "very_likely")


def _u_channel(bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """OpenCV's 8-bit COLOR_BGR2YUV U plane (fixed-point, 14-bit shift, rounding)."""
    b = bgr[:, :, 0].astype(np.int32)
    g = bgr[:, :, 1].astype(np.int32)
    r = bgr[:, :, 2].astype(np.int32)
    y = (r * 4899 + g * 9617 + b * 1868 + (1 << 13)) >> 14
    u = ((b - y) * 8061 + (128 << 14) + (1 << 13)) >> 14
    return np.clip(u, 0, 255).astype(np.uint8)


def decode_dwtdct_bits(bgr: npt.NDArray[np.uint8], length: int = 48) -> npt.NDArray[np.uint8]:
    """imwatermark's `WatermarkDecoder('bits', length).decode(bgr, 'dwtDct')`, reimplemented."""
    rows, cols = bgr.shape[:2]
    u = _u_channel(bgr)[: rows // 4 * 4, : cols // 4 * 4]
    approx, _ = pywt.dwt2(u, "haar")
    br, bc = approx.shape[0] // _BLOCK, approx.shape[1] // _BLOCK
    blocks = approx[: br * _BLOCK, : bc * _BLOCK].reshape(br, _BLOCK, bc, _BLOCK)
    flat = blocks.transpose(0, 2, 1, 3).reshape(br * bc, _BLOCK * _BLOCK)
    pos = np.argmax(np.abs(flat[:, 1:]), axis=1) + 1
    val = np.abs(flat[np.arange(flat.shape[0]), pos])
    score = (np.mod(val, _SCALE) > 0.5 * _SCALE).astype(np.float64)
    which = np.arange(score.size) % length
    sums = np.bincount(which, weights=score, minlength=length)
    counts = np.bincount(which, minlength=length)
    avg = sums / np.maximum(counts, 1)
    return (avg * 255 > 127).astype(np.uint8)


def _verdict(matching: int) -> str:
    for limit, name in _VERDICTS:
        if matching <= limit:
            return name
    return "very_likely"


def detect_sdxl_watermark(image: ImageInput) -> SdxlReading:
    """Look for SDXL's fixed watermark; images under 256x256 pixels give verdict 'none'."""
    rgb = to_rgb_array(image)
    if rgb.shape[0] * rgb.shape[1] < _MIN_PIXELS:
        return SdxlReading(0, "none", "rgb", ())
    best: SdxlReading | None = None
    for order, arr in (("rgb", rgb), ("bgr", np.ascontiguousarray(rgb[:, :, ::-1]))):
        bits = decode_dwtdct_bits(arr)
        matching = int(np.count_nonzero(bits == SDXL_WATERMARK_BITS))
        reading = SdxlReading(matching, _verdict(matching), order, tuple(int(b) for b in bits))
        if best is None or matching > best.matching_bits:
            best = reading
    assert best is not None
    return best
