"""Bad image input is refused with a clear error, never a crash."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from amparo.content.images import decode_image
from amparo.errors import BadInput, TooLarge, UnsupportedMedia


def png_bytes(w: int, h: int, mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (w, h)).save(buf, "PNG")
    return buf.getvalue()


def test_empty() -> None:
    with pytest.raises(BadInput, match="empty"):
        decode_image(b"")


def test_not_an_image() -> None:
    with pytest.raises(UnsupportedMedia):
        decode_image(b"%PDF-1.4 this is not an image at all")


def test_truncated_jpeg(shared_data) -> None:
    data = (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    with pytest.raises(BadInput):
        decode_image(data[: len(data) // 3])


def test_byte_limit() -> None:
    with pytest.raises(TooLarge):
        decode_image(png_bytes(64, 64), max_bytes=10)


def test_pixel_limit() -> None:
    with pytest.raises(TooLarge):
        decode_image(png_bytes(300, 300), max_pixels=200 * 200)


def test_decompression_bomb_header_refused_before_decoding() -> None:
    # A PNG header that claims 100000 x 100000 pixels: refused from the header alone.
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )
    with pytest.raises(TooLarge):
        decode_image(data, max_pixels=80_000_000)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "L", "P", "I;16", "CMYK", "1"])
def test_modes_decode_to_rgb(mode: str) -> None:
    img = Image.new(mode, (40, 30))
    buf = io.BytesIO()
    img.save(buf, "TIFF" if mode in ("CMYK", "I;16") else "PNG")
    d = decode_image(buf.getvalue())
    assert d.rgb.shape == (30, 40, 3) and d.rgb.dtype == np.uint8


def test_animated_gif_frames_sampled() -> None:
    frames = [Image.new("RGB", (32, 32), (i * 10, 0, 0)) for i in range(20)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    d = decode_image(buf.getvalue(), max_frames=5)
    assert d.frame_count == 20
    assert len(d.frames) == 4  # five sampled frames: the first plus four more


def test_mode_images_from_reference_set(shared_data) -> None:
    for p in sorted((shared_data / "pdq" / "misc-images" / "modes").iterdir()):
        d = decode_image(p.read_bytes())
        assert d.rgb.ndim == 3, p


def test_exif_user_comment_read_from_exif_ifd() -> None:
    img = Image.new("RGB", (32, 32))
    exif = Image.Exif()
    exif[0x0131] = "SomeEditor 2.0"
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00Steps: 20, Sampler: Euler"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    d = decode_image(buf.getvalue())
    assert d.metadata["exif:Software"] == "SomeEditor 2.0"
    assert d.metadata["exif:UserComment"] == "Steps: 20, Sampler: Euler"
