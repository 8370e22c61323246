"""PDQ as the reference computes it, the fast path's accuracy, EXIF handling, and exact hashes."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from amparo.content.images import decode_image
from amparo.errors import BadInput
from amparo.signals.hashes.cryptographic import MD5, SHA1, SHA256
from amparo.signals.hashes.pdq import (
    PdqHasher,
    normalise_pdq,
    pdq_of_array_full,
    pdq_of_bytes,
    pdq_of_bytes_fast,
)


def hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


@pytest.fixture(scope="module")
def reference(shared_data):  # type: ignore[no-untyped-def]
    return json.loads((shared_data / "pdq" / "pdqhash-full-resolution.json").read_text())


def test_full_resolution_equals_reference_for_same_pixels(shared_data, reference) -> None:
    for name in ("bridge-mods/aaa-orig.jpg", "bridge-mods/blur-a-lot.jpg", "misc-images/wee.jpg"):
        rgb = np.asarray(Image.open(shared_data / "pdq" / name).convert("RGB"))
        value, quality = pdq_of_array_full(rgb)
        assert value == reference[name]["pdq"]
        assert quality == reference[name]["quality"]


def test_fast_path_within_distance_10_for_quality_80(shared_data, reference) -> None:
    checked = 0
    for name, ref in reference.items():
        if ref["quality"] < 80:
            continue
        value, _ = pdq_of_bytes_fast((shared_data / "pdq" / name).read_bytes())
        assert hamming(value, ref["pdq"]) <= 10, name
        checked += 1
    assert checked >= 30


def test_exif_orientation_follows_reference(shared_data, reference) -> None:
    """The reference hashes the stored pixels (no EXIF transpose); so do we, on every path."""
    hasher = PdqHasher()
    for n in (1, 3, 6, 8):
        name = f"reg-test/exif-rotn/exif-rotn-{n}.jpg"
        data = (shared_data / "pdq" / name).read_bytes()
        decoded = decode_image(data)
        sig = hasher.hash_image(decoded, data)
        assert sig is not None
        assert hamming(sig.value, reference[name]["pdq"]) <= 10, name
        if "pdq_exif_transposed" in reference[name]:
            assert hamming(sig.value, reference[name]["pdq_exif_transposed"]) > 31
            # ...while the decoded pixels for the detectors are upright (EXIF applied)
            with Image.open(shared_data / "pdq" / name) as im:
                if n in (6, 8):
                    assert (decoded.width, decoded.height) == (im.height, im.width)


def test_low_quality_hash_reports_quality(shared_data, reference) -> None:
    value, quality = pdq_of_bytes((shared_data / "pdq" / "misc-images/small.jpg").read_bytes())
    assert quality < 50


def test_exact_hashes_of_bytes_as_received(shared_data) -> None:
    data = (shared_data / "pdq" / "bridge-mods/aaa-orig.jpg").read_bytes()
    assert MD5.hash_bytes(data).value == hashlib.md5(data).hexdigest()
    assert SHA1.hash_bytes(data).value == hashlib.sha1(data).hexdigest()
    assert SHA256.hash_bytes(data).value == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("bad", ["", "xyz", "f" * 63, "g" * 64, "f" * 65])
def test_malformed_pdq_rejected(bad: str) -> None:
    with pytest.raises(BadInput):
        normalise_pdq(bad)


def test_pdq_normalised_to_lowercase() -> None:
    assert normalise_pdq(" " + "AB" * 32 + "\n") == "ab" * 32
