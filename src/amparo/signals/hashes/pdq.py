"""PDQ perceptual hash via pdqhash (Python bindings of Meta's C++ reference).

Two paths:

* the hash of record (`pdq_of_bytes`, `PdqHasher.hash_image`): pdqhash on the fully decoded RGB
  image (Pillow `convert("RGB")` of the first frame, EXIF orientation NOT applied). It equals
  the reference bit for bit on every shared image (tests/core/test_pdq_reference.py). It is what
  is stored in banks, the evidence vault and the generation ledger, exported and shared.
* the fast lookup path (`pdq_of_bytes_fast`, `PdqHasher(fast=True)`): a luma-only reduced-scale
  JPEG decode, box-reduced to at most WORKING_SIZE per side. PDQ reduces every image to a 64x64
  grid anyway, so lookups lose little (max distance 8 from the reference on the shared images
  of quality >= 80, bench/results/hashing.md), but the value is not the reference's: signals
  from it carry `exact: false` and are never written as a hash of record.

python-threatexchange hashes `numpy.asarray(Image.open(...))` without converting to RGB, so it
differs from the reference where the stored mode is not RGB/L: CMYK pixels are read as RGB
(inverted luma: all 256 bits flip) and palette images are hashed on their palette indices
(36 bits off on the shared P.png). See docs/matching-index.md.
"""

from __future__ import annotations

import io
import re
import warnings

import numpy as np
import pdqhash
from PIL import Image

from amparo.content.images import DecodedImage
from amparo.domain.signals import Signal
from amparo.errors import BadInput, TooLarge

NAME = "pdq"
WORKING_SIZE = 384
_HEX = re.compile(r"^[0-9a-f]{64}$")


def _hex(bits: np.ndarray) -> str:
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def _pdq_of_luma_image(img: Image.Image) -> tuple[str, int]:
    w, h = img.size
    if max(w, h) > WORKING_SIZE:
        img = img.resize((min(w, WORKING_SIZE), min(h, WORKING_SIZE)), Image.Resampling.BOX)
    luma = np.asarray(img)
    bits, quality = pdqhash.compute(np.ascontiguousarray(np.repeat(luma[:, :, None], 3, axis=2)))
    return _hex(bits), int(quality)


def pdq_of_array(rgb: np.ndarray) -> tuple[str, int]:
    """Hash decoded RGB pixels by the fast path (luma, square cap of WORKING_SIZE): lookups only."""
    return _pdq_of_luma_image(Image.fromarray(np.ascontiguousarray(rgb)).convert("L"))


def pdq_of_array_full(rgb: np.ndarray) -> tuple[str, int]:
    """Hash (h, w, 3) uint8 pixels at full resolution: exactly the reference hash for the same
    pixels (pdq_exact.py: pdqhash's arithmetic, about 3.5x faster)."""
    from amparo.signals.hashes.pdq_exact import pdq_exact  # numba: loaded where a hash is made

    packed, quality = pdq_exact(rgb)
    return packed.hex(), quality


def warm() -> None:
    """Make the hash of record's compiled loops ready (a server calls this before it serves)."""
    from amparo.signals.hashes.pdq_exact import warm as warm_exact

    warm_exact()


def _open(data: bytes, max_pixels: int) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise TooLarge(f"image refused as a decompression bomb: {e}") from None
    w, h = img.size
    if w * h > max_pixels:
        raise TooLarge(f"image is {w}x{h} pixels; the limit is {max_pixels}")
    return img


def pdq_of_bytes(data: bytes, *, max_pixels: int = 80_000_000) -> tuple[str, int]:
    """File bytes → the hash of record: the reference's hash of the fully decoded RGB first frame."""
    img = _open(data, max_pixels)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        rgb = np.asarray(img.convert("RGB"))
    return pdq_of_array_full(rgb)


def pdq_of_bytes_fast(data: bytes, *, max_pixels: int = 80_000_000) -> tuple[str, int]:
    """File bytes → PDQ for lookups, with reduced-scale JPEG decoding; not the hash of record.

    Only luma is decoded: JPEG's Y channel and Pillow's "L" use PDQ's own luma weights
    (0.299, 0.587, 0.114), so chroma upsampling and colour conversion are skipped."""
    img = _open(data, max_pixels)
    if img.format == "JPEG":
        img.draft("L", (WORKING_SIZE, WORKING_SIZE))
    return _pdq_of_luma_image(img.convert("L"))


def normalise_pdq(value: str) -> str:
    v = value.strip().lower()
    if not _HEX.match(v):
        raise BadInput(f"malformed PDQ hash {value[:80]!r}: expected 64 hex characters", code="bad_hash")
    return v


class PdqHasher:
    """`fast=False` (default): the hash of record. `fast=True`: the lookup path, marked exact=False."""

    name = NAME
    match_kind = "hamming"

    def __init__(self, *, fast: bool = False) -> None:
        self.fast = fast

    def hash_bytes(self, data: bytes) -> Signal | None:
        value, quality = pdq_of_bytes(data)
        return Signal(NAME, value, quality)

    def hash_image(self, image: DecodedImage, data: bytes) -> Signal | None:
        if not self.fast:
            return self.hash_of_record(image, data)
        # JPEGs: a luma-only reduced decode of the stored pixels (no EXIF orientation, as the
        # reference). Other formats: the decoded pixels (formats without EXIF rotation in practice).
        if image.format in ("JPEG", "MPO") or _has_rotation(data):
            value, quality = pdq_of_bytes_fast(data)
        else:
            value, quality = pdq_of_array(image.rgb)
        return Signal(NAME, value, quality, exact=False)

    def hash_of_record(self, image: DecodedImage, data: bytes) -> Signal | None:
        if _decoded_is_reference_input(image, data):
            value, quality = pdq_of_array_full(image.rgb)  # no second decode
        else:
            # EXIF orientation applied, alpha flattened on white, another mode converted, or a
            # reduced JPEG decode: not the reference's input, so decode the bytes again (the
            # configured pixel limit was already applied to them by decode_image).
            value, quality = pdq_of_bytes(data, max_pixels=int(Image.MAX_IMAGE_PIXELS or 80_000_000))
        return Signal(NAME, value, quality)

    def normalise(self, value: str) -> str:
        return normalise_pdq(value)


def _decoded_is_reference_input(image: DecodedImage, data: bytes) -> bool:
    """True when the detectors' decoded pixels are exactly Pillow's full `convert("RGB")` of the
    first frame: an RGB or L original, decoded at full size, with no EXIF rotation applied."""
    if image.reference_pixels:
        return True  # decode_image says so: no need to read the header again
    if image.mode not in ("RGB", "L"):
        return False
    try:
        with Image.open(io.BytesIO(data)) as im:  # header only
            size = im.size
            rotated = im.getexif().get(0x0112, 1) not in (0, 1)
    except Exception:
        return False
    return not rotated and size == (image.width, image.height)


def _has_rotation(data: bytes) -> bool:
    try:
        return Image.open(io.BytesIO(data)).getexif().get(0x0112, 1) not in (0, 1)
    except Exception:
        return False
