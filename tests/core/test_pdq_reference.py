"""Every hash of record equals the reference (pdqhash on the fully decoded RGB image) on every shared image."""

from __future__ import annotations

import json

import pytest

from amparo.banks.management import entries_from_image
from amparo.content.images import decode_image
from amparo.evidence.vault import hash_at_capture
from amparo.signals.hashes.pdq import PdqHasher, pdq_of_bytes, pdq_of_bytes_fast


@pytest.fixture(scope="module")
def reference(shared_data):  # type: ignore[no-untyped-def]
    return json.loads((shared_data / "pdq" / "pdqhash-full-resolution.json").read_text())


def _images(shared_data, reference):  # type: ignore[no-untyped-def]
    assert len(reference) == 42
    for name, ref in reference.items():
        yield name, (shared_data / "pdq" / name).read_bytes(), ref


def test_every_shared_image_bytes_and_hasher(shared_data, reference) -> None:
    hasher = PdqHasher()
    for name, data, ref in _images(shared_data, reference):
        assert pdq_of_bytes(data) == (ref["pdq"], ref["quality"]), name
        # through the decoded image the detectors get (EXIF applied, alpha flattened, reduced JPEG)
        decoded = decode_image(data, max_side=1024)
        sig = hasher.hash_image(decoded, data)
        assert sig is not None and sig.exact
        assert (sig.value, sig.quality) == (ref["pdq"], ref["quality"]), name
        assert hash_at_capture(data).pdq == ref["pdq"], name
        # a reduced decode (JPEGs drafted to >= 256 px) must fall back to decoding again
        small = decode_image(data, max_side=256)
        sig_small = hasher.hash_image(small, data)
        assert sig_small is not None and (sig_small.value, sig_small.quality) == (ref["pdq"], ref["quality"]), name


def test_every_shared_image_bank_entry(sqlite_service, shared_data, reference) -> None:
    for name, data, ref in _images(shared_data, reference):
        pdq = [e for e in entries_from_image(sqlite_service.pipeline, data) if e.signal_type == "pdq"]
        assert [e.value for e in pdq] == [ref["pdq"]], name


def test_fast_lookup_is_marked_and_not_stored(shared_data, reference) -> None:
    fast = PdqHasher(fast=True)
    name = "bridge-mods/aaa-orig.jpg"
    data = (shared_data / "pdq" / name).read_bytes()
    sig = fast.hash_image(decode_image(data), data)
    assert sig is not None and sig.exact is False and sig.to_dict()["exact"] is False
    assert sig.value == pdq_of_bytes_fast(data)[0]
    assert sig.value != reference[name]["pdq"]  # why it may not be stored or shared


def test_fast_lookup_verdict_says_exact_false(tmp_path, shared_data) -> None:  # type: ignore[no-untyped-def]
    from conftest import make_settings

    from amparo.domain.items import Item
    from amparo.service import Service

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'a.db'}").model_copy(update={"pdq_fast_lookup": True})
    svc = Service(settings)
    try:
        data = (shared_data / "pdq" / "bridge-mods/aaa-orig.jpg").read_bytes()
        verdict = svc.pipeline.check(Item.from_image(data))
        pdq = [s for s in verdict.to_dict()["signals"] if s["type"] == "pdq"]
        assert pdq and pdq[0]["exact"] is False
    finally:
        svc.close()
