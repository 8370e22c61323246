"""PDQ perceptual hash via pdqhash (Python bindings of Meta's C++ reference).

Like the reference (and python-threatexchange), the hash is taken of the pixels as stored, without
applying EXIF orientation, so it equals the hashes that NCMEC, StopNCII and HMA share.

Speed: PDQ reduces every image to a 64x64 grid (whatever its aspect ratio) with a Jarosz filter,
so hashing the full resolution wastes time. We let libjpeg decode at a reduced scale (`draft`) and
box-reduce each side to at most WORKING_SIZE pixels (a square cap, like PDQ's own square grid;
keeping the aspect ratio instead gave distances up to 14). On the reference images every hash of
quality >= 80 stays within distance 8 of the full-resolution reference (tests/core/test_pdq_signal.py,
bench/results/hashing.md).
"""

from __future__ import annotations

import io
import re

import numpy as np
import pdqhash
from PIL import Image

from amparo.content.images import DecodedImage
from amparo.domain.signals import Signal
from amparo.errors import BadInput

NAME = "pdq"
WORKING_SIZE = 384
_HEX = re.compile(r"^[0-9a-f]{64}$")


def _pdq_of_luma_image(img: Image.Image) -> tuple[str, int]:
    w, h = img.size
    if max(w, h) > WORKING_SIZE:
        img = img.resize((min(w, WORKING_SIZE), min(h, WORKING_SIZE)), Image.Resampling.BOX)
    luma = np.asarray(img)
    bits, quality = pdqhash.compute(np.ascontiguousarray(np.repeat(luma[:, :, None], 3, axis=2)))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def pdq_of_array(rgb: np.ndarray) -> tuple[str, int]:
    """Hash decoded RGB pixels by the fast path (luma, square cap of WORKING_SIZE)."""
    return _pdq_of_luma_image(Image.fromarray(np.ascontiguousarray(rgb)).convert("L"))


def pdq_of_array_full(rgb: np.ndarray) -> tuple[str, int]:
    """Hash at full resolution: exactly the reference hash for the same pixels."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def pdq_of_bytes(data: bytes, *, max_pixels: int = 80_000_000) -> tuple[str, int]:
    """File bytes → PDQ with reduced-scale JPEG decoding; no EXIF transpose (as the reference).

    Only luma is decoded: JPEG's Y channel and Pillow's "L" use PDQ's own luma weights
    (0.299, 0.587, 0.114), so chroma upsampling and colour conversion are skipped."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    img = Image.open(io.BytesIO(data))
    if img.format == "JPEG":
        img.draft("L", (WORKING_SIZE, WORKING_SIZE))
    return _pdq_of_luma_image(img.convert("L"))


def normalise_pdq(value: str) -> str:
    v = value.strip().lower()
    if not _HEX.match(v):
        raise BadInput(f"malformed PDQ hash {value[:80]!r}: expected 64 hex characters", code="bad_hash")
    return v


class PdqHasher:
    name = NAME
    match_kind = "hamming"

    def hash_bytes(self, data: bytes) -> Signal | None:
        value, quality = pdq_of_bytes(data)
        return Signal(NAME, value, quality)

    def hash_image(self, image: DecodedImage, data: bytes) -> Signal | None:
        # JPEGs: a luma-only reduced decode of the stored pixels (cheap, and without the EXIF
        # orientation that the decoded image carries for the detectors, as the reference).
        # Other formats: the decoded pixels (formats without EXIF rotation in practice).
        if image.format in ("JPEG", "MPO") or _has_rotation(data):
            value, quality = pdq_of_bytes(data)
        else:
            value, quality = pdq_of_array(image.rgb)
        return Signal(NAME, value, quality)

    def normalise(self, value: str) -> str:
        return normalise_pdq(value)


def _has_rotation(data: bytes) -> bool:
    try:
        return Image.open(io.BytesIO(data)).getexif().get(0x0112, 1) not in (0, 1)
    except Exception:
        return False
