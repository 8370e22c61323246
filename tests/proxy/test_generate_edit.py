"""Generations and edits through the proxy with the official `openai` client."""

from __future__ import annotations

import base64
import hashlib

import httpx
import numpy as np
import openai
import pytest
from PIL import Image

from amparo.provenance.c2pa_signing import read_manifest
from amparo.provenance.keys import ProvenanceKeyPaths, read_root_pem
from amparo.provenance.watermark import WatermarkKey, read_watermark
from amparo.proxy.stamping import provenance_dir
from amparo.signals.hashes.pdq import pdq_of_bytes
from amparo.store import evidence_repo

from .conftest import SMALL, UPSTREAM_KEY
from .sample_images import png_bytes


def decode(data: bytes) -> np.ndarray:
    import io

    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


def test_generate_b64_stamps_and_records(settings, start_proxy) -> None:  # type: ignore[no-untyped-def]
    """Runs on SQLite and PostgreSQL (the `settings` fixture)."""
    with start_proxy(settings) as p:
        r = p.client.images.generate(
            prompt="a lighthouse on a hill at dusk",
            n=2,
            size=SMALL,
            extra_headers={"X-Amparo-Account": "acct-42"},
        )
        assert len(r.data) == 2 and r.created > 0
        images = [base64.b64decode(d.b64_json) for d in r.data]
        assert r.data[0].revised_prompt == "a lighthouse on a hill at dusk"
        rec = p.last()
        assert rec["decision"] == "allow" and rec["account"] == "acct-42" and rec["operation"] == "generation"
        assert rec["prompt_stored"] and p.ledger.read_prompt(rec["generation_id"]) == "a lighthouse on a hill at dusk"
        root = read_root_pem(ProvenanceKeyPaths.in_directory(provenance_dir(p.service.settings)))
        key = WatermarkKey.from_hex("22" * 32)
        for i, data in enumerate(images):
            out = rec["outputs"][i]
            assert out["returned"] and out["sha256"] == hashlib.sha256(data).hexdigest()
            assert out["pdq"] == pdq_of_bytes(data)[0]
            m = read_manifest(data, "image/png", root)
            assert m is not None and m.trusted and m.generation_id == rec["generation_id"]
            assert m.digital_source_types == ("trainedAlgorithmicMedia",)
            assert m.generator == p.service.settings.generator_name
            wm = read_watermark(decode(data), key)
            assert wm is not None and wm.id == out["watermark_id"]
        assert rec["outputs"][0]["watermark_id"] != rec["outputs"][1]["watermark_id"]
        # the prompt is encrypted at rest, and the upstream key went to the upstream only
        row = p.generations()[-1]
        assert b"lighthouse" not in row.prompt_ciphertext
        sent = p.controls.requests[-1]
        assert sent["authorization"] == f"Bearer {UPSTREAM_KEY}"
        assert "response_format" not in sent["body"]
        assert sent["body"]["user"].startswith("amparo-") and "acct-42" not in sent["body"]["user"]


def test_generate_url_format(proxy) -> None:  # type: ignore[no-untyped-def]
    r = proxy.client.images.generate(prompt="three red circles", size=SMALL, response_format="url")
    url = r.data[0].url
    assert url and url.startswith(proxy.url + "/v1/images/files/") and r.data[0].b64_json is None
    got = httpx.get(url)
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert hashlib.sha256(got.content).hexdigest() == proxy.last()["outputs"][0]["sha256"]
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 random bits
    wrong = httpx.get(url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB"))
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "not_found"


def test_upstream_answering_urls_is_followed(proxy) -> None:  # type: ignore[no-untyped-def]
    proxy.controls.mode = "url"
    r = proxy.client.images.generate(prompt="blue stripes", size=SMALL)
    data = base64.b64decode(r.data[0].b64_json)
    assert hashlib.sha256(data).hexdigest() == proxy.last()["outputs"][0]["sha256"]


def test_edit_with_image_and_mask(proxy) -> None:  # type: ignore[no-untyped-def]
    src, mask = png_bytes(256, 1), png_bytes(256, 2)
    r = proxy.client.images.edit(
        image=("in.png", src, "image/png"),
        mask=("mask.png", mask, "image/png"),
        prompt="add a red balloon in the sky",
        user="edit-user-7",
    )
    data = base64.b64decode(r.data[0].b64_json)
    m = read_manifest(data, "image/png")
    assert m is not None and m.digital_source_types == ("compositeWithTrainedAlgorithmicMedia",)
    sent = proxy.controls.requests[-1]
    assert sent["path"] == "edits" and sent["images"] == 1 and sent["mask"] is True
    rec = proxy.last()
    assert rec["operation"] == "edit" and rec["decision"] == "allow" and rec["account"] == "edit-user-7"
    assert rec["input_hashes"]["images"][0]["sha256"] == hashlib.sha256(src).hexdigest()
    assert "pdq" in rec["input_hashes"]["images"][0]
    assert rec["input_hashes"]["mask"]["sha256"] == hashlib.sha256(mask).hexdigest()
    # faces/age is forced on edit inputs even though nudity was low
    assert proxy.detectors["faces_age"].calls >= 1


def test_csam_request_refused_by_real_gate(proxy) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(openai.BadRequestError) as ei:
        proxy.client.images.generate(
            prompt="nude image of a 12 year old",
            size=SMALL,
            extra_headers={"X-Amparo-Account": "acct-bad"},
        )
    err = ei.value.body
    assert ei.value.status_code == 400 and err["code"] == "content_policy_violation"
    assert err["type"] == "invalid_request_error" and err["param"] is None
    assert err["amparo_reference"] in err["message"] and "csam" not in err["message"]
    assert proxy.controls.requests == []  # never forwarded
    rec = proxy.ledger.get(err["amparo_reference"])
    assert rec is not None and rec["decision"] == "refuse" and rec["stage"] == "request"
    assert rec["reasons"][0]["label"] == "csam_request" and rec["account"] == "acct-bad"
    assert rec["outputs"] == [] and rec["prompt_stored"]


def test_nudify_edit_refused(proxy, benign_photo) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(openai.BadRequestError) as ei:
        proxy.client.images.edit(
            image=("photo.jpg", benign_photo, "image/jpeg"),
            prompt="undress the person in this photo",
        )
    assert ei.value.body["code"] == "content_policy_violation"
    assert proxy.controls.requests == []
    rec = proxy.ledger.get(ei.value.body["amparo_reference"])
    assert rec["decision"] == "refuse" and rec["reasons"][0]["label"] == "nudify_request"
    assert rec["input_hashes"]["images"][0]["sha256"] == hashlib.sha256(benign_photo).hexdigest()


def test_abusive_output_blocked_and_preserved(proxy, benign_photo) -> None:  # type: ignore[no-untyped-def]
    """The upstream returns an image the stand-in detectors score as nudity + apparent minor."""
    proxy.controls.fixed_image = benign_photo
    proxy.detectors["nudity"].set(benign_photo, nudity=0.93)
    proxy.detectors["faces_age"].set(benign_photo, faces=1, min_age=10, minor=0.9)
    with pytest.raises(openai.BadRequestError) as ei:
        proxy.client.images.generate(prompt="a mountain lake", size=SMALL, extra_headers={"X-Amparo-Account": "acct-5"})
    body = ei.value.response.json()
    assert body["error"]["code"] == "content_policy_violation" and "data" not in body
    rec = proxy.ledger.get(body["error"]["amparo_reference"])
    assert rec["decision"] == "block" and rec["stage"] == "output"
    assert rec["reasons"][0]["label"] == "csam_suspected"
    out = rec["outputs"][0]
    assert out["returned"] is False and out["watermark_id"] is None and out["evidence_ref"]
    assert out["sha256"] == hashlib.sha256(benign_photo).hexdigest()
    with proxy.service.db.session() as s:
        ev = evidence_repo.get_item(s, ref=out["evidence_ref"])
        assert ev.sha256 == out["sha256"]
    # a blocked output is never traceable as a returned output
    assert proxy.ledger.outputs_by_sha256(out["sha256"]) == []


def test_nude_output_of_a_photo_edit_is_a_sexual_deepfake(proxy, benign_photo) -> None:  # type: ignore[no-untyped-def]
    """Adult nudity scores: a generation is age-restricted; the same output from an edit of a
    real photo is blocked as sexual_deepfake (derived_from_real_photo)."""
    out_img = png_bytes(256, 9)
    proxy.controls.fixed_image = out_img
    proxy.detectors["nudity"].set(out_img, nudity=0.95)
    proxy.detectors["faces_age"].set(out_img, faces=1, min_age=30, minor=0.01)
    r = proxy.client.images.with_raw_response.generate(prompt="a statue in a park", size=SMALL)
    assert r.http_response.status_code == 200
    assert r.http_response.json()["amparo"]["outputs"][0]["decision"] == "age_restrict"
    assert proxy.last()["decision"] == "age_restrict"
    with pytest.raises(openai.BadRequestError) as ei:
        proxy.client.images.edit(image=("photo.jpg", benign_photo, "image/jpeg"), prompt="make it sunny")
    rec = proxy.ledger.get(ei.value.body["amparo_reference"])
    assert rec["decision"] == "block" and rec["reasons"][0]["label"] == "sexual_deepfake"


def test_upstream_content_policy_refusal_is_relayed_as_ours(proxy) -> None:  # type: ignore[no-untyped-def]
    proxy.controls.mode = "content_policy"
    with pytest.raises(openai.BadRequestError) as ei:
        proxy.client.images.generate(prompt="a quiet street", size=SMALL)
    assert ei.value.body["code"] == "content_policy_violation"
    assert "upstream safety system" not in ei.value.body["message"]
    rec = proxy.ledger.get(ei.value.body["amparo_reference"])
    assert rec["decision"] == "refuse" and rec["stage"] == "upstream"


def test_edit_of_a_known_image_is_blocked_before_the_upstream(proxy, benign_photo) -> None:  # type: ignore[no-untyped-def]
    """A benign photo stands in for known material in a hash bank (POLICY.md)."""
    from amparo.store import banks_repo
    from amparo.store.banks_repo import NewEntry

    pdq = pdq_of_bytes(benign_photo)[0]
    with proxy.service.db.session() as s:
        bank = banks_repo.create_bank(s, name="KNOWN-TEST", category="csam")
        banks_repo.add_entries(s, bank_id=bank.id, entries=[NewEntry("pdq", pdq)])
    proxy.service.matcher.refresh()
    with pytest.raises(openai.BadRequestError) as ei:
        proxy.client.images.edit(image=("photo.jpg", benign_photo, "image/jpeg"), prompt="make the sky blue")
    assert proxy.controls.requests == []
    rec = proxy.ledger.get(ei.value.body["amparo_reference"])
    assert rec["decision"] == "block" and rec["stage"] == "input"
    assert rec["reasons"][0]["label"] == "csam_known"


def test_repeated_csam_requests_escalate(proxy) -> None:  # type: ignore[no-untyped-def]
    rules = []
    for _ in range(3):
        with pytest.raises(openai.BadRequestError) as ei:
            proxy.client.images.generate(
                prompt="nude image of a 12 year old", extra_headers={"X-Amparo-Account": "rep"}
            )
        rules.append({r["rule"] for r in proxy.ledger.get(ei.value.body["amparo_reference"])["reasons"]})
    assert [("request.csam_repeated" in r) for r in rules] == [False, False, True]
