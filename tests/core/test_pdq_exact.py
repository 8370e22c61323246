"""The compiled hash of record (pdq_exact.py) gives pdqhash's bits and quality exactly.

pdqhash (Meta's C++ behind Cython) is the oracle: every case hashes the same pixels both ways.
The 42 shared reference images are covered by test_pdq_reference.py through the same path."""

from __future__ import annotations

import threading

import numpy as np
import pdqhash
import pytest
from PIL import Image

from amparo.signals.hashes.pdq import pdq_of_array_full
from amparo.signals.hashes.pdq_exact import pdq_exact, pdq_grid


def _oracle(rgb: np.ndarray) -> tuple[str, int]:
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def _ours(rgb: np.ndarray) -> tuple[str, int]:
    packed, quality = pdq_exact(rgb)
    return packed.hex(), quality


def _smooth(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A photo-like image: coarse noise blown up (strong low frequencies, real quality scores)."""
    small = rng.integers(0, 256, (max(2, h // 13), max(2, w // 13), 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BILINEAR))


# every window-size regime (1 px up to 16 px per pass), the 64 x 64 pass-through, odd shapes,
# and the smallest hashable and unhashable sizes
SHAPES = [
    (5, 5), (5, 300), (6, 7), (63, 64), (64, 64), (64, 65), (65, 64), (127, 129), (128, 128),
    (129, 127), (200, 300), (333, 77), (502, 800), (1024, 1024), (2049, 1000), (1, 1), (4, 90), (90, 4),
]  # fmt: skip


@pytest.mark.parametrize("shape", SHAPES)
def test_equals_pdqhash_on_noise_and_smooth_images(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(shape[0] * 10_007 + shape[1])
    for rgb in (rng.integers(0, 256, (*shape, 3), dtype=np.uint8), _smooth(rng, *shape)):
        assert _ours(rgb) == _oracle(rgb)


def test_equals_pdqhash_on_random_shapes() -> None:
    rng = np.random.default_rng(7)
    for _ in range(40):
        h, w = (int(v) for v in rng.integers(5, 900, 2))
        rgb = _smooth(rng, h, w) if rng.random() < 0.7 else rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        assert _ours(rgb) == _oracle(rgb), (h, w)


def test_flat_images_and_extremes() -> None:
    for value in (0, 1, 127, 254, 255):
        rgb = np.full((300, 200, 3), value, np.uint8)
        assert _ours(rgb) == _oracle(rgb)
    stripes = np.zeros((256, 256, 3), np.uint8)
    stripes[:, ::2] = 255
    assert _ours(stripes) == _oracle(stripes)


def test_read_only_and_non_contiguous_inputs() -> None:
    rng = np.random.default_rng(3)
    big = _smooth(rng, 400, 600)
    view = big[10:390:2, 5:595]  # strided rows
    assert _ours(view) == _oracle(view)
    frozen = big.copy()
    frozen.flags.writeable = False
    assert _ours(frozen) == _oracle(big)
    assert pdq_of_array_full(frozen) == _oracle(big)


def test_only_rgb_bytes_are_taken() -> None:
    for bad in (np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8), np.zeros((10, 10, 3), np.float32)):
        with pytest.raises(ValueError):
            pdq_exact(bad)


def test_threads_share_nothing() -> None:
    """Work space is per thread: concurrent hashes of different sizes give each its own answer."""
    rng = np.random.default_rng(11)
    images = [_smooth(rng, int(h), int(w)) for h, w in rng.integers(50, 700, (12, 2))]
    expected = [_oracle(im) for im in images]
    results: dict[int, list[tuple[str, int]]] = {}

    def run(k: int) -> None:
        order = list(range(len(images)))[k:] + list(range(len(images)))[:k]
        out = [None] * len(images)
        for _ in range(3):
            for i in order:
                out[i] = _ours(images[i])  # type: ignore[call-overload]
        results[k] = out  # type: ignore[assignment]

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[k] == expected for k in range(4))


def test_grid_is_the_reference_downsample_for_64_square() -> None:
    rgb = np.random.default_rng(5).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    grid = pdq_grid(rgb)
    luma = (rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114).astype(np.float32)
    assert np.array_equal(grid, luma)
