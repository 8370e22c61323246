"""Decode image bytes safely: format, byte and pixel limits, EXIF orientation, animation frames."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from amparo.content.decode_budget import DecodeBudget, check_gif_frame_count
from amparo.errors import BadInput, TooLarge, UnsupportedMedia

SUPPORTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO"})
# Size to which large images are reduced before PDQ: PDQ itself downsamples to 64x64 via a
# Jarosz filter, so hashing a ~512 px version keeps the hash (the C++ reference tools do the same).
PDQ_WORKING_SIZE = 512


@dataclass(frozen=True)
class DecodedImage:
    """A decoded image: RGB pixels with EXIF orientation applied, plus facts about the original."""

    rgb: np.ndarray  # HxWx3 uint8
    format: str
    width: int
    height: int
    mode: str
    frame_count: int = 1
    metadata: dict[str, str] = field(default_factory=dict)  # PNG text chunks, EXIF Software, etc.
    frames: tuple[np.ndarray, ...] = ()  # sampled extra frames of an animation (RGB)
    # True when `rgb` is exactly Pillow's full-size convert("RGB") of the first frame with no EXIF
    # rotation (PDQ's reference input): the hash of record then needs no look at the bytes again.
    reference_pixels: bool = False

    @cached_property
    def pil(self) -> Image.Image:
        return Image.fromarray(self.rgb)


def _limits_guard(max_pixels: int) -> None:
    # Pillow raises DecompressionBombError at 2x MAX_IMAGE_PIXELS and warns above it; we set the
    # limit to our own and turn the warning into an error so bombs never get decoded.
    Image.MAX_IMAGE_PIXELS = max_pixels


def _upright(img: Image.Image) -> bool:
    try:
        return img.getexif().get(0x0112, 1) in (None, 1)
    except Exception:  # corrupt EXIF must not make the image unreadable: treated as upright
        return True


def _oriented(img: Image.Image) -> Image.Image:
    if _upright(img):
        return img  # exif_transpose would only copy every pixel
    try:
        return ImageOps.exif_transpose(img)
    except Exception:
        return img


def _turbo_rgb(data: bytes, width: int, height: int) -> np.ndarray | None:
    """A baseline or progressive colour JPEG decoded by libjpeg-turbo straight into a numpy array
    (simplejpeg): the same library and settings as Pillow's decoder (accurate integer IDCT, fancy
    upsampling), so the same pixels (tests/core/test_image_decode_fast.py), without Pillow's
    image object and the copy out of it (~1.4 ms of a 100 KB photo's 4.2). None where it cannot
    (not installed, a damaged stream, an unexpected shape): Pillow then decodes and decides, so a
    file libjpeg only warns about is read as before, and a truncated one is refused as before."""
    try:
        import simplejpeg
    except ImportError:
        return None
    try:
        rgb = simplejpeg.decode_jpeg(data, colorspace="RGB", strict=True)
    except ValueError:  # strict: any libjpeg warning, never a half-decoded image
        return None
    if rgb.shape != (height, width, 3):
        return None
    return rgb


def _to_rgb(img: Image.Image) -> np.ndarray:
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    elif img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = np.zeros_like(arr) if hi <= lo else (arr - lo) * (255.0 / (hi - lo))
        img = Image.fromarray(scaled.astype(np.uint8), "L")
    # an RGB image as it is (convert would copy every pixel first)
    return np.ascontiguousarray(np.asarray(img if img.mode == "RGB" else img.convert("RGB")))


def _metadata(img: Image.Image) -> dict[str, str]:
    meta: dict[str, str] = {}
    for k, v in (img.info or {}).items():
        if isinstance(v, str) and k not in ("icc_profile", "exif"):
            meta[str(k)] = v[:20000]
    try:
        exif = img.getexif()
        # UserComment (where generators such as AUTOMATIC1111 write their parameters into JPEGs)
        # lives in the Exif sub-IFD (0x8769), the others in IFD0.
        sub = exif.get_ifd(0x8769)
        for tag, name, ifd in (
            (0x0131, "exif:Software", exif),
            (0x010E, "exif:ImageDescription", exif),
            (0x013B, "exif:Artist", exif),
            (0x9286, "exif:UserComment", sub),
        ):
            val = ifd.get(tag)
            if val is not None:
                meta[name] = _exif_text(val)
    except Exception:  # corrupt EXIF: the image stays readable, its metadata is just not read
        pass
    return meta


def _exif_text(val: object) -> str:
    if isinstance(val, bytes):
        # UserComment starts with an 8-byte character-code prefix (ASCII, UNICODE = UTF-16, JIS).
        if val[:8] == b"UNICODE\x00":
            body = val[8:]
            enc = "utf-16-le" if body[:2] != b"\x00\x00" and body[1:2] == b"\x00" else "utf-16-be"
            return body.decode(enc, "replace").rstrip("\x00")[:20000]
        if val[:8] in (b"ASCII\x00\x00\x00", b"\x00" * 8):
            val = val[8:]
        return val.decode("utf-8", "replace").rstrip("\x00")[:20000]
    return str(val)[:20000]


def decode_image(
    data: bytes,
    *,
    max_bytes: int = 50 * 1024 * 1024,
    max_pixels: int = 80_000_000,
    max_frames: int = 16,
    max_side: int | None = None,
    max_decode_pixels: int = 160_000_000,
    max_decode_seconds: float = 10.0,
) -> DecodedImage:
    """Decode bytes to RGB, refusing oversize, bombs, truncated and non-image input.

    `max_side`: JPEGs may be decoded at a reduced scale whose sides stay >= max_side.
    `max_decode_pixels`/`max_decode_seconds`: the budget over all frames of an animation."""
    if not data:
        raise BadInput("empty file", code="empty")
    if len(data) > max_bytes:
        raise TooLarge(f"file is {len(data)} bytes; the limit is {max_bytes}")
    _limits_guard(max_pixels)
    check_gif_frame_count(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = (img.format or "").upper()
            if fmt not in SUPPORTED_FORMATS:
                raise UnsupportedMedia(f"unsupported image format {fmt or 'unknown'}")
            w, h = img.size
            if w * h > max_pixels:
                raise TooLarge(f"image is {w}x{h} pixels; the limit is {max_pixels}")
            if w < 1 or h < 1:
                raise BadInput("image has no pixels", code="bad_image")
            n_frames = int(getattr(img, "n_frames", 1) or 1)
            budget = DecodeBudget(max_pixels=max(max_decode_pixels, max_pixels), max_seconds=max_decode_seconds)
            if n_frames > 1:
                # Frame N is reached by decoding every frame before it, each at canvas size.
                budget.check_header(width=w, height=h, frames=n_frames)
            metadata = _metadata(img)
            mode = img.mode
            if max_side and fmt == "JPEG":
                # libjpeg decodes at 1/2, 1/4, 1/8 scale directly: the detectors need no more
                # than max_side pixels, and a reduced decode is several times cheaper.
                img.draft("RGB", (max_side, max_side))
            upright = _upright(img)
            fast = None
            if fmt == "JPEG" and mode == "RGB" and not max_side and n_frames == 1 and upright:
                fast = _turbo_rgb(data, w, h)
            if fast is not None:
                budget.spend(w * h)
                first = fast
            else:
                img.load()
                budget.spend(w * h)
                first = _to_rgb(img if upright else _oriented(img))
            reference = mode in ("RGB", "L") and upright and first.shape[:2] == (h, w)
            extra: list[np.ndarray] = []
            if n_frames > 1:
                # Animated: check a spread sample of frames (documented in docs/limits.md). Frames are
                # stepped through one by one (as the decoder must) so that time and pixels are counted.
                picks = set(np.linspace(0, n_frames - 1, min(n_frames, max_frames)).astype(int).tolist())
                for idx in range(1, max(picks) + 1):
                    img.seek(idx)
                    img.load()
                    budget.spend(img.size[0] * img.size[1])
                    if idx in picks:
                        extra.append(_to_rgb(img))
    except (TooLarge, UnsupportedMedia, BadInput):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise TooLarge(f"image refused as a decompression bomb: {e}") from None
    except UnidentifiedImageError:
        raise UnsupportedMedia("not a recognised image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise BadInput(f"image could not be decoded ({e.__class__.__name__}: {e})", code="bad_image") from None
    return DecodedImage(
        rgb=first,
        format=fmt,
        width=first.shape[1],
        height=first.shape[0],
        mode=mode,
        frame_count=n_frames,
        metadata=metadata,
        frames=tuple(extra),
        reference_pixels=reference,
    )
