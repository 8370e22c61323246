"""The check path decodes colour JPEGs with libjpeg-turbo straight into numpy (simplejpeg). The
hash of record depends on every pixel, so the pixels must be Pillow's, byte for byte, for every
kind of JPEG an upload can be; anything the fast path does not cover goes through Pillow as before."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from amparo.content import images
from amparo.content.images import decode_image
from amparo.errors import BadInput
from amparo.signals.hashes.pdq import pdq_of_array_full

PDQ_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "pdq"


def _photo(w: int, h: int, seed: int) -> Image.Image:
    """Smooth gradients plus noise: chroma detail that subsampling and upsampling both touch."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 127 // max(w + h, 1))], -1)
    noisy = np.clip(base + rng.integers(-40, 41, (h, w, 3)), 0, 255).astype(np.uint8)
    return Image.fromarray(noisy, "RGB")


def _jpeg(img: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def _pillow_rgb(data: bytes) -> np.ndarray:
    img = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    return np.asarray(img.convert("RGB"))


VARIANTS = [
    {"quality": 90},
    {"quality": 75, "subsampling": 0},  # 4:4:4
    {"quality": 75, "subsampling": 1},  # 4:2:2
    {"quality": 60, "subsampling": 2},  # 4:2:0
    {"quality": 85, "progressive": True},
    {"quality": 85, "optimize": True},
    {"quality": 50, "restart_marker_blocks": 3},
    {"quality": 100, "subsampling": 0},
]
SIZES = [(1, 1), (5, 7), (17, 33), (64, 64), (127, 65), (800, 502), (1023, 769)]


@pytest.mark.parametrize("kw", VARIANTS, ids=[",".join(f"{k}={v}" for k, v in v.items()) for v in VARIANTS])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_fast_decode_equals_pillow(kw: dict[str, object], size: tuple[int, int]) -> None:
    data = _jpeg(_photo(*size, seed=size[0] * 31 + len(kw)), **kw)
    fast = images._turbo_rgb(data, *size)
    assert fast is not None, "the fast path must take an ordinary colour JPEG"
    ref = _pillow_rgb(data)
    assert fast.shape == ref.shape and fast.dtype == np.uint8
    assert np.array_equal(fast, ref)
    dec = decode_image(data)
    assert np.array_equal(dec.rgb, ref) and (dec.width, dec.height) == size and dec.format == "JPEG"


def test_shared_reference_jpegs_decode_and_hash_the_same() -> None:
    paths = sorted(p for p in PDQ_DIR.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    assert len(paths) >= 20
    fast_taken = 0
    for p in paths:
        data = p.read_bytes()
        ref = _pillow_rgb(data)
        dec = decode_image(data)
        assert np.array_equal(dec.rgb, ref), p.name
        assert pdq_of_array_full(dec.rgb) == pdq_of_array_full(ref), p.name
        fast_taken += images._turbo_rgb(data, ref.shape[1], ref.shape[0]) is not None
    assert fast_taken >= 20


def test_what_the_fast_path_leaves_to_pillow_decodes_as_before() -> None:
    photo = _photo(40, 24, seed=5)
    # EXIF rotated: turned upright by Pillow, the fast path never sees it.
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated = _jpeg(photo, exif=exif.tobytes())
    dec = decode_image(rotated)
    assert dec.rgb.shape == (40, 24, 3)
    assert np.array_equal(dec.rgb, _pillow_rgb(rotated))
    # Greyscale and CMYK JPEGs: Pillow converts them, as before.
    for mode in ("L", "CMYK"):
        data = _jpeg(photo.convert(mode))
        assert np.array_equal(decode_image(data).rgb, _pillow_rgb(data)), mode
    # Detectors on: a reduced-scale decode through Pillow's draft, unchanged.
    big = _jpeg(_photo(1024, 768, seed=9))
    assert decode_image(big, max_side=256).rgb.shape[1] < 1024


def test_damaged_jpegs_are_refused_as_before() -> None:
    data = _jpeg(_photo(300, 200, seed=3), quality=90)
    with pytest.raises(BadInput):
        decode_image(data[: len(data) // 2])
    assert images._turbo_rgb(data[: len(data) // 2], 300, 200) is None
    # A stream that libjpeg only warns about (junk before a marker) is not refused by the fast
    # path's strictness: Pillow decodes it, as it always did.
    sos = data.index(b"\xff\xda")
    warned = data[:sos] + b"\x00\x00" + data[sos:]
    assert images._turbo_rgb(warned, 300, 200) is None
    try:
        ref = _pillow_rgb(warned)
    except OSError:
        with pytest.raises(BadInput):
            decode_image(warned)
    else:
        assert np.array_equal(decode_image(warned).rgb, ref)


def test_decode_says_when_its_pixels_are_pdqs_reference_input() -> None:
    photo = _photo(64, 48, seed=11)
    assert decode_image(_jpeg(photo)).reference_pixels
    png = io.BytesIO()
    photo.convert("L").save(png, "PNG")
    assert decode_image(png.getvalue()).reference_pixels
    exif = Image.Exif()
    exif[0x0112] = 3
    assert not decode_image(_jpeg(photo, exif=exif.tobytes())).reference_pixels  # rotated upright
    rgba = io.BytesIO()
    photo.convert("RGBA").save(rgba, "PNG")
    assert not decode_image(rgba.getvalue()).reference_pixels  # alpha flattened on white
    big = _jpeg(_photo(1024, 768, seed=2))
    reduced = decode_image(big, max_side=200)
    assert not reduced.reference_pixels  # a reduced-scale decode
    # The hash of record is the same either way: from the reduced decode it re-reads the bytes.
    assert pdq_of_array_full(_pillow_rgb(big)) == pdq_of_array_full(decode_image(big).rgb)
