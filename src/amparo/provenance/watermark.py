"""Amparo's keyed invisible watermark: a 64-bit generation id that survives re-encoding.

Scheme `amparo-wm-v1` (see docs/provenance.md):
  * payload = 64-bit id + 24-bit HMAC tag of the id, XOR-whitened with a key stream, coded with a
    rate-1/3 K=7 convolutional code (282 coded bits);
  * the coded bits and 25 % pilot chips are spread over a key-permuted, key-signed tile of
    128 x 128 chips of 2 x 2 pixels (period 256 px), added to the luma only (R, G and B get the
    same offset), scaled by a local-activity mask so flat areas get less;
  * decoding whitens the luma (minus a local mean, divided by local activity), folds it modulo the
    period, finds the crop offset by FFT correlation with the pilots, despreads soft bits, runs a
    Viterbi decoder and accepts the id only if the HMAC tag matches. A wrong key, or an unmarked
    image, passes that check with probability 2^-24 per candidate offset tried.
The grid is in pixels of the image as produced: crops, re-encoding and resizing back to the
original size keep it; a lasting rescale is searched over a few scales (SCALES_TRIED).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from amparo.errors import BadInput
from amparo.provenance.watermark_code import encode_bits, viterbi_decode
from amparo.provenance.watermark_pattern import (
    CODED_BITS,
    ID_BITS,
    MESSAGE_BITS,
    PERIOD,
    SCHEME,
    TAG_BITS,
    TileLayout,
    message_tag,
    pixel_tile,
    pixels_to_chips,
    tile_layout,
)
from amparo.provenance.watermark_sdxl import SdxlReading, detect_sdxl_watermark
from amparo.provenance.watermark_signal import (
    FloatArray,
    ImageInput,
    box_blur,
    luma,
    to_rgb_array,
)

__all__ = [
    "DEFAULT_STRENGTH",
    "METHOD",
    "MIN_EMBED_SIDE",
    "MIN_READ_SIDE",
    "SdxlReading",
    "WatermarkKey",
    "WatermarkReading",
    "detect_sdxl_watermark",
    "embed_watermark",
    "read_watermark",
]

METHOD = SCHEME
DEFAULT_STRENGTH = 2.0  # RMS of the mark in luma units (0-255): PSNR about 42 dB
MIN_KEY_BYTES = 16
MIN_EMBED_SIDE = 256
MIN_READ_SIDE = 128
MAX_READ_SIDE = 6 * PERIOD
MAX_ID = (1 << ID_BITS) - 1
# Decoder whitening: local mean window radius and activity window radius (pixels).
_MEAN_RADIUS = 2
_ACTIVITY_RADIUS = 7
# Embedder's local-activity mask: the mark is scaled by clip(activity / mean activity).
_MASK_RADIUS = 4
_MASK_FLOOR = 0.35
_MASK_CEIL = 2.0
_PEAKS_TRIED = 3
# The strongest pilot peak of unmarked images sits at z 3.5-5.5 (max of 65536 correlations);
# marks after JPEG q50 + halving on a 256 px image still give z > 18. Below this, skip decoding.
MIN_PILOT_Z = 6.0
# Rescales undone after the native grid fails (2.0: the image was halved and kept that size).
SCALES_TRIED = (1.0, 2.0, 0.5, 4 / 3, 0.75, 1.6, 1.25, 0.8)


class WatermarkKey(bytes):
    """Secret watermark key (at least 16 bytes). `WatermarkKey.generate()` makes 32 random bytes."""

    def __new__(cls, value: bytes) -> WatermarkKey:
        if not isinstance(value, bytes | bytearray) or len(value) < MIN_KEY_BYTES:
            raise BadInput(f"a watermark key needs at least {MIN_KEY_BYTES} bytes")
        return super().__new__(cls, bytes(value))

    @classmethod
    def generate(cls) -> WatermarkKey:
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_hex(cls, text: str) -> WatermarkKey:
        try:
            raw = bytes.fromhex(text.strip())
        except ValueError as exc:
            raise BadInput("the watermark key must be hexadecimal") from exc
        return cls(raw)

    def __repr__(self) -> str:  # never print the secret
        return f"WatermarkKey(<{len(self)} bytes>)"


@dataclass(frozen=True)
class WatermarkReading:
    """A verified watermark: `id` passed the keyed HMAC check.

    confidence (0..1) falls with the share of coded bits the Viterbi decoder had to correct
    (0 corrected -> 1.0; 25 % corrected, near the code's limit -> 0.0) and is 0 when the pilot
    correlation is weak. bit_errors counts corrected coded bits out of coded_bits.
    """

    id: int
    confidence: float
    bit_errors: int
    coded_bits: int
    pilot_score: float  # z-score of the alignment peak (unmarked images: about 4-5)
    offset: tuple[int, int]  # (dy, dx) of the tile grid, pixels
    scale: float  # rescale applied before decoding (1.0 = as given)
    method: str = METHOD


def _key(key: bytes) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise BadInput(f"a watermark key needs at least {MIN_KEY_BYTES} bytes")
    return bytes(key)


def _message_bits(key: bytes, layout: TileLayout, payload_id: int) -> npt.NDArray[np.uint8]:
    word = (payload_id << TAG_BITS) | message_tag(key, payload_id)
    bits = np.array([(word >> (MESSAGE_BITS - 1 - i)) & 1 for i in range(MESSAGE_BITS)], np.uint8)
    return bits ^ layout.scramble


def _activity_mask(y: FloatArray) -> FloatArray:
    detail = np.abs(y - box_blur(y, 1))
    act = box_blur(detail, _MASK_RADIUS)
    mean = float(act.mean()) + 1e-3
    return np.clip(act / mean, _MASK_FLOOR, _MASK_CEIL).astype(np.float32)


def embed_watermark(
    image: ImageInput, payload_id: int, key: bytes, *, strength: float = DEFAULT_STRENGTH
) -> npt.NDArray[np.uint8]:
    """Return a copy of `image` (RGB uint8 HxWx3) carrying `payload_id` under `key`."""
    k = _key(key)
    if not isinstance(payload_id, int) or not 0 <= payload_id <= MAX_ID:
        raise BadInput(f"payload_id must be an integer in 0..2^{ID_BITS}-1")
    if not 0.0 < strength <= 20.0:
        raise BadInput("strength must be in (0, 20]")
    rgb = to_rgb_array(image)
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_EMBED_SIDE:
        raise BadInput(f"image too small to watermark ({w}x{h}); need {MIN_EMBED_SIDE}px sides")
    layout = tile_layout(k)
    coded = encode_bits(_message_bits(k, layout, payload_id))
    tile = pixel_tile(layout, coded)
    tile *= np.float32(1.0 / float(np.sqrt(np.mean(tile * tile))))
    reps = (-(-h // PERIOD), -(-w // PERIOD))
    pattern = np.tile(tile, reps)[:h, :w]
    mark = pattern * _activity_mask(luma(rgb))
    # the mask only redistributes the energy: the total RMS is `strength`, so PSNR is predictable
    mark *= np.float32(strength / (float(np.sqrt(np.mean(mark * mark))) + 1e-6))
    out = rgb.astype(np.float32) + mark[:, :, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _whiten(y: FloatArray) -> FloatArray:
    hp = y - box_blur(y, _MEAN_RADIUS)
    act = box_blur(np.abs(hp), _ACTIVITY_RADIUS)
    return np.asarray(hp / (act + np.float32(1.0)), np.float32)


def _fold(a: FloatArray) -> FloatArray:
    h, w = a.shape
    ph, pw = -(-h // PERIOD) * PERIOD, -(-w // PERIOD) * PERIOD
    if (ph, pw) != (h, w):
        a = np.pad(a, ((0, ph - h), (0, pw - w)))
    return np.asarray(a.reshape(ph // PERIOD, PERIOD, pw // PERIOD, PERIOD).sum(axis=(0, 2)))


def _top_peaks(surface: FloatArray, count: int) -> list[tuple[int, int, float]]:
    flat = surface.ravel()
    idx = np.argpartition(flat, -count)[-count:]
    idx = idx[np.argsort(flat[idx])[::-1]]
    mean, std = float(flat.mean()), float(flat.std()) + 1e-12
    return [(int(i // PERIOD), int(i % PERIOD), (float(flat[i]) - mean) / std) for i in idx]


def _decode_tile(
    key: bytes, layout: TileLayout, folded: FloatArray, scale: float
) -> WatermarkReading | None:
    spectrum = np.fft.rfft2(folded) * layout.pilot_spectrum_conj
    corr: FloatArray = np.asarray(np.fft.irfft2(spectrum, s=folded.shape), np.float32)
    for dy, dx, z in _top_peaks(corr, _PEAKS_TRIED):
        if z < MIN_PILOT_Z:
            break  # peaks come strongest first
        # the peak sits at minus the crop offset; rolling back by it re-aligns the tile
        aligned = np.roll(folded, (-dy, -dx), axis=(0, 1))
        chips = pixels_to_chips(aligned) * layout.polarity
        data = ~layout.pilot
        soft = np.asarray(
            np.bincount(layout.bit_index[data], weights=chips[data], minlength=CODED_BITS),
            np.float64,
        )
        soft = soft / (np.std(soft) + 1e-12)
        bits = viterbi_decode(soft, MESSAGE_BITS) ^ layout.scramble
        word = int("".join(map(str, bits.tolist())), 2)
        payload_id, tag = word >> TAG_BITS, word & ((1 << TAG_BITS) - 1)
        if tag != message_tag(key, payload_id):
            continue
        recoded = encode_bits(bits ^ layout.scramble)
        errors = int(np.count_nonzero((soft < 0) != (recoded == 1)))
        confidence = max(0.0, min(1.0, 1.0 - errors / (0.25 * CODED_BITS)))
        return WatermarkReading(
            id=payload_id,
            confidence=round(confidence, 4),
            bit_errors=errors,
            coded_bits=CODED_BITS,
            pilot_score=round(z, 2),
            offset=((-dy) % PERIOD, (-dx) % PERIOD),
            scale=scale,
        )
    return None


def _central_luma(rgb: npt.NDArray[np.uint8]) -> FloatArray:
    """Luma of the central MAX_READ_SIDE square: six periods per side already fold 36 copies of
    the tile; more costs time, not reliability."""
    h, w = rgb.shape[:2]
    ch, cw = min(h, MAX_READ_SIDE), min(w, MAX_READ_SIDE)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    return luma(rgb[y0 : y0 + ch, x0 : x0 + cw])


def _fold_at_scale(white: FloatArray, scale: float) -> FloatArray | None:
    """Fold with the period the tile has after the image was rescaled by `1/scale`, then resize
    the folded tile to PERIOD: folding and resizing are linear, so this equals resizing the whole
    image first, at a fraction of the cost."""
    period = round(PERIOD / scale)
    if period < 32 or min(white.shape) < period // 2:
        return None
    h, w = white.shape
    ph, pw = -(-h // period) * period, -(-w // period) * period
    a = np.pad(white, ((0, ph - h), (0, pw - w)))
    tile = a.reshape(ph // period, period, pw // period, period).sum(axis=(0, 2))
    if period == PERIOD:
        return np.asarray(tile, np.float32)
    pad = 4  # circular margin so the bicubic kernel wraps around like the tile does
    wrapped = np.pad(tile, pad, mode="wrap").astype(np.float32)
    size = PERIOD + 2 * round(pad * PERIOD / period)
    big = np.asarray(
        Image.fromarray(wrapped, mode="F").resize((size, size), Image.Resampling.BICUBIC)
    )
    m = (size - PERIOD) // 2
    return np.asarray(big[m : m + PERIOD, m : m + PERIOD], np.float32)


def read_watermark(
    image: ImageInput, key: bytes, *, scales: tuple[float, ...] = SCALES_TRIED
) -> WatermarkReading | None:
    """Decode the id carried under `key`; None when there is no verifiable Amparo watermark.

    `scales` are the resize factors undone before decoding (2.0: the image was halved).
    """
    k = _key(key)
    rgb = to_rgb_array(image)
    if min(rgb.shape[:2]) < MIN_READ_SIDE:
        return None
    layout = tile_layout(k)
    white = _whiten(_central_luma(rgb))
    for scale in scales:
        folded = _fold_at_scale(white, scale)
        if folded is None:
            continue
        reading = _decode_tile(k, layout, folded, scale)
        if reading is not None:
            return reading
    return None


def raw_decode(image: ImageInput, key: bytes) -> tuple[npt.NDArray[np.float64], int]:
    """Diagnostics for the bench: soft coded bits at the strongest pilot peak (native scale) and
    the id the Viterbi decoder makes of them, whether or not the tag verifies."""
    k = _key(key)
    layout = tile_layout(k)
    folded = _fold(_whiten(_central_luma(to_rgb_array(image))))
    corr = np.fft.irfft2(np.fft.rfft2(folded) * layout.pilot_spectrum_conj, s=folded.shape)
    dy, dx, _ = _top_peaks(np.asarray(corr, np.float32), 1)[0]
    chips = pixels_to_chips(np.roll(folded, (-dy, -dx), axis=(0, 1))) * layout.polarity
    data = ~layout.pilot
    soft = np.asarray(
        np.bincount(layout.bit_index[data], weights=chips[data], minlength=CODED_BITS),
        np.float64,
    )
    bits = viterbi_decode(soft, MESSAGE_BITS) ^ layout.scramble
    return soft, int("".join(map(str, bits.tolist())), 2) >> TAG_BITS


def expected_coded_bits(payload_id: int, key: bytes) -> npt.NDArray[np.uint8]:
    """The coded bits `embed_watermark` spreads for `payload_id` (bench and tests)."""
    k = _key(key)
    return encode_bits(_message_bits(k, tile_layout(k), payload_id))
