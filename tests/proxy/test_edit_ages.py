"""Edits of photos whose faces are unsure (possible minors): the gate treats the edit as about a
possible minor. Detector outputs are injected by stand-ins on benign images (POLICY.md)."""

from __future__ import annotations

import openai
import pytest

from .sample_images import png_bytes

UNSURE_FACE = {"faces": 1, "unsure_faces": 1, "minor": 0.0}
ADULT_FACE = {"faces": 1, "unsure_faces": 0, "minor": 0.01}


@pytest.fixture
def proxy(sqlite_settings, start_proxy):  # type: ignore[no-untyped-def]
    # a longer upstream timeout than the shared fixture's 2 s: these tests check verdicts, not timeouts
    with start_proxy(sqlite_settings, timeout_s=15.0) as p:
        yield p


def _edit(proxy, photo: bytes, prompt: str):  # type: ignore[no-untyped-def]
    return proxy.client.images.edit(image=("photo.jpg", photo, "image/jpeg"), prompt=prompt)


def test_benign_edit_of_an_unsure_face_is_allowed_and_says_so(proxy, benign_photo) -> None:  # type: ignore[no-untyped-def]
    proxy.detectors["faces_age"].set(benign_photo, **UNSURE_FACE)
    r = proxy.client.images.with_raw_response.edit(
        image=("photo.jpg", benign_photo, "image/jpeg"), prompt="make the sky blue"
    )
    assert r.http_response.status_code == 200
    rec = proxy.last()
    assert rec["decision"] == "allow"
    assert [x["rule"] for x in rec["reasons"]] == ["request.edit_age_unsure"]


def test_nude_output_of_an_edit_of_an_unsure_face_is_csam_suspected(proxy, benign_photo) -> None:  # type: ignore[no-untyped-def]
    out_img = png_bytes(256, 11)
    proxy.controls.fixed_image = out_img
    proxy.detectors["faces_age"].set(benign_photo, **UNSURE_FACE)
    # the output's own face looks adult: the input decides that this may be a child
    proxy.detectors["nudity"].set(out_img, nudity=0.95)
    proxy.detectors["faces_age"].set(out_img, **ADULT_FACE)
    with pytest.raises(openai.BadRequestError) as ei:
        _edit(proxy, benign_photo, "make the sky blue")
    rec = proxy.ledger.get(ei.value.body["amparo_reference"])
    assert rec["decision"] == "block" and rec["stage"] == "output"
    assert rec["reasons"][0]["label"] == "csam_suspected"
    out = rec["outputs"][0]
    assert out["returned"] is False and out["evidence_ref"] and "csam_suspected" in out["labels"]


def test_the_same_output_from_a_confident_adult_photo_is_a_deepfake_not_csam(proxy, benign_photo) -> None:  # type: ignore[no-untyped-def]
    out_img = png_bytes(256, 12)
    proxy.controls.fixed_image = out_img
    proxy.detectors["faces_age"].set(benign_photo, **ADULT_FACE)
    proxy.detectors["nudity"].set(out_img, nudity=0.95)
    proxy.detectors["faces_age"].set(out_img, **ADULT_FACE)
    with pytest.raises(openai.BadRequestError) as ei:
        _edit(proxy, benign_photo, "make the sky blue")
    rec = proxy.ledger.get(ei.value.body["amparo_reference"])
    labels = rec["outputs"][0]["labels"]
    assert "sexual_deepfake" in labels and "csam_suspected" not in labels


def test_undress_edit_of_an_unsure_face_is_a_csam_request(proxy, benign_photo) -> None:  # type: ignore[no-untyped-def]
    proxy.detectors["faces_age"].set(benign_photo, **UNSURE_FACE)
    with pytest.raises(openai.BadRequestError) as ei:
        _edit(proxy, benign_photo, "undress the person in this photo")
    assert proxy.controls.requests == []
    rec = proxy.ledger.get(ei.value.body["amparo_reference"])
    assert rec["decision"] == "refuse" and "csam_request" in {x["label"] for x in rec["reasons"]}
