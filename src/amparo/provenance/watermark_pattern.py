"""Key-derived spread-spectrum tile of the Amparo watermark.

The mark is a periodic tile of TILE_CHIPS x TILE_CHIPS chips, each chip CHIP_PIXELS x
CHIP_PIXELS pixels of the luma (so the tile period is PERIOD pixels). Periodicity makes a crop
a cyclic shift of the tile: the decoder folds the image modulo PERIOD and finds the shift by
correlating with the pilot chips. Chips of two pixels, slightly smoothed, keep the energy below
a quarter of the sampling rate, where both a halving resize and JPEG's luma quantisation leave
it alone. Everything (chip polarity, which chip is a pilot, which coded bit each data chip
carries) comes from HMAC-SHA256 of the secret key, so neither reading nor forging works without it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from amparo.provenance.watermark_code import coded_length

SCHEME = "amparo-wm-v1"
CHIP_PIXELS = 2
TILE_CHIPS = 128
PERIOD = CHIP_PIXELS * TILE_CHIPS
ID_BITS = 64
TAG_BITS = 24
MESSAGE_BITS = ID_BITS + TAG_BITS
CODED_BITS = coded_length(MESSAGE_BITS)
PILOT_FRACTION = 0.25

FloatArray = npt.NDArray[np.float32]


def derive(key: bytes, label: str, length: int = 32) -> bytes:
    """HMAC-SHA256 based derivation of independent sub-keys from the secret key."""
    out = b""
    counter = 0
    while len(out) < length:
        out += hmac.new(key, f"{SCHEME}/{label}/{counter}".encode(), hashlib.sha256).digest()
        counter += 1
    return out[:length]


@dataclass(frozen=True)
class TileLayout:
    polarity: FloatArray  # (TILE_CHIPS, TILE_CHIPS) of +-1
    pilot: npt.NDArray[np.bool_]  # (TILE_CHIPS, TILE_CHIPS)
    bit_index: npt.NDArray[np.int64]  # (TILE_CHIPS, TILE_CHIPS), -1 for pilots
    pilot_pattern: FloatArray  # (PERIOD, PERIOD) pixel-domain pilot, for the alignment search
    pilot_spectrum_conj: npt.NDArray[np.complex64]  # conj(FFT2(pilot_pattern))
    scramble: npt.NDArray[np.uint8]  # (MESSAGE_BITS,) whitening of the message


def smooth_circular(a: FloatArray) -> FloatArray:
    """Circular [1,2,1]/4 smoothing on both axes (its own adjoint)."""
    a = (np.roll(a, 1, 0) + 2.0 * a + np.roll(a, -1, 0)) * 0.25
    return np.asarray((np.roll(a, 1, 1) + 2.0 * a + np.roll(a, -1, 1)) * 0.25, np.float32)


def chips_to_pixels(chips: FloatArray) -> FloatArray:
    """Chip field (T x T) to the smooth pixel tile (PERIOD x PERIOD)."""
    block = np.ones((CHIP_PIXELS, CHIP_PIXELS), np.float32)
    return smooth_circular(np.kron(chips.astype(np.float32), block))


def pixels_to_chips(tile: FloatArray) -> FloatArray:
    """Adjoint of chips_to_pixels: matched filter of each chip over an aligned folded tile."""
    s = smooth_circular(tile)
    t = TILE_CHIPS
    return np.asarray(s.reshape(t, CHIP_PIXELS, t, CHIP_PIXELS).sum(axis=(1, 3)), np.float32)


@lru_cache(maxsize=16)
def tile_layout(key: bytes) -> TileLayout:
    seed = int.from_bytes(derive(key, "layout"), "big")
    rng = np.random.Generator(np.random.PCG64(seed))
    n = TILE_CHIPS * TILE_CHIPS
    polarity = (rng.integers(0, 2, n) * 2 - 1).astype(np.float32)
    order = rng.permutation(n)
    per_bit = int((n * (1.0 - PILOT_FRACTION)) // CODED_BITS)
    n_data = per_bit * CODED_BITS
    bit_index = np.full(n, -1, dtype=np.int64)
    bit_index[order[:n_data]] = np.arange(n_data) % CODED_BITS
    pilot = bit_index < 0
    shape = (TILE_CHIPS, TILE_CHIPS)
    pilot_chips = np.where(pilot, polarity, 0.0).astype(np.float32).reshape(shape)
    pilot_pattern = chips_to_pixels(pilot_chips)
    spectrum = np.conj(np.fft.rfft2(pilot_pattern)).astype(np.complex64)
    scramble = np.unpackbits(np.frombuffer(derive(key, "scramble", 16), np.uint8))[:MESSAGE_BITS]
    for arr in (polarity, bit_index, pilot, pilot_pattern, spectrum, scramble):
        arr.setflags(write=False)
    return TileLayout(
        polarity=polarity.reshape(shape),
        pilot=pilot.reshape(shape),
        bit_index=bit_index.reshape(shape),
        pilot_pattern=pilot_pattern,
        pilot_spectrum_conj=spectrum,
        scramble=scramble,
    )


def message_tag(key: bytes, payload_id: int) -> int:
    mac = hmac.new(derive(key, "tag"), payload_id.to_bytes(8, "big"), hashlib.sha256).digest()
    return int.from_bytes(mac[: TAG_BITS // 8], "big")


def pixel_tile(layout: TileLayout, coded: npt.NDArray[np.uint8]) -> FloatArray:
    """The +-1-ish pixel tile carrying `coded` (0/1 coded bits) plus the pilots."""
    symbols = 1.0 - 2.0 * coded.astype(np.float32)
    values = np.where(layout.pilot, 1.0, symbols[np.maximum(layout.bit_index, 0)])
    return chips_to_pixels((layout.polarity * values).astype(np.float32))
