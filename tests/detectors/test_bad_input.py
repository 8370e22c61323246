"""Awkward images give every detector a Classification or DetectorFailed, never another error."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from amparo.content.images import decode_image
from amparo.domain.signals import Classification
from amparo.errors import BadInput, DetectorFailed

from .sample_images import paste_scaled, procedural, skimage_rgb


def _save(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def _corrupt_exif_jpeg() -> bytes:
    data = bytearray(_save(Image.fromarray(procedural(1, 64, 64)), "JPEG"))
    # An APP1 "Exif" segment whose TIFF header and IFD are garbage.
    app1 = b"Exif\0\0" + b"MM\0*\0\0\0\x08\xff\xff" + bytes(range(40))
    segment = b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1
    return bytes(data[:2] + segment + data[2:])


def _half_transparent() -> Image.Image:
    img = Image.fromarray(procedural(4, 128, 128)).convert("RGBA")
    img.putalpha(90)
    return img


def _animated_gif() -> bytes:
    frames = [Image.fromarray(procedural(s, 96, 64)) for s in range(20)]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)


def _panorama() -> bytes:
    canvas = np.tile(procedural(2, 600, 300), (1, 20, 1))  # 12000 x 300
    return _save(
        Image.fromarray(paste_scaled(canvas, skimage_rgb("astronaut"), 280, (6000, 10))), "JPEG"
    )


CASES = {
    "1x1": lambda: _save(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG"),
    "8x8": lambda: _save(Image.fromarray(procedural(1, 8, 8)), "PNG"),
    "panorama-12000x300": _panorama,
    "tall-300x6000": lambda: _save(Image.fromarray(procedural(3, 300, 6000)), "PNG"),
    "rgba-alpha": lambda: _save(_half_transparent(), "PNG"),
    "fully-transparent": lambda: _save(Image.new("RGBA", (128, 128), (0, 0, 0, 0)), "PNG"),
    "cmyk-jpeg": lambda: _save(Image.fromarray(procedural(5, 256, 256)).convert("CMYK"), "JPEG"),
    "16-bit-png": lambda: _save(
        Image.fromarray((np.arange(256 * 256).reshape(256, 256) % 65535).astype(np.uint16)), "PNG"
    ),
    "grey-L": lambda: _save(Image.fromarray(procedural(6, 128, 128)).convert("L"), "PNG"),
    "animated-gif": _animated_gif,
    "corrupt-exif": _corrupt_exif_jpeg,
    "huge-text-chunk": lambda: _save(
        Image.fromarray(procedural(7, 64, 64)), "PNG", pnginfo=_pnginfo("parameters", "x" * 200_000)
    ),
}


def _pnginfo(key: str, value: str):  # type: ignore[no-untyped-def]
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(key, value)
    return info


@pytest.fixture(scope="module")
def detectors(nsfw, faces_age, provenance):  # type: ignore[no-untyped-def]
    return [nsfw, faces_age, provenance]


@pytest.mark.parametrize("case", sorted(CASES))
def test_awkward_images(detectors, case):
    data = CASES[case]()
    try:
        img = decode_image(data)
    except BadInput as e:  # a clear error before any detector is an accepted outcome
        assert e.message
        return
    for det in detectors:
        try:
            c = det.classify(img, data)
        except DetectorFailed as e:
            assert e.message
            continue
        assert isinstance(c, Classification) and c.detector == det.name
        assert all(np.isfinite(v) for v in c.scores.values())
        assert c.elapsed_ms >= 0


def test_panorama_faces_are_in_bounds(faces_age):
    data = _panorama()
    c = faces_age.classify(decode_image(data), data)
    for face in c.details["faces"]:
        left, top, right, bottom = face["box"]
        assert 0 <= left < right <= 12000 and 0 <= top < bottom <= 300


def test_animated_gif_frames_are_counted(detectors):
    data = _animated_gif()
    img = decode_image(data)
    assert len(img.frames) >= 1
    nsfw, faces_age, _ = detectors
    assert nsfw.classify(img, data).details["frames"] == 1 + len(img.frames)
    assert faces_age.classify(img, data).details["frames"] == 1 + len(img.frames)
