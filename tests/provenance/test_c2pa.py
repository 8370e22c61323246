from __future__ import annotations

import io
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from amparo.errors import ConfigurationError, Conflict, UnsupportedMedia
from amparo.provenance import keys
from amparo.provenance.c2pa_signing import (
    WATERMARK_SOFT_BINDING_ALG,
    load_signer,
    read_manifest,
    sign_image,
    signer_from_pem,
    watermark_soft_binding,
)
from amparo.provenance.watermark_samples import draw_benign_image

FORMATS = (("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"))


def _encoded(fmt: str, size: int = 320) -> bytes:
    buf = io.BytesIO()
    draw_benign_image(5, size).save(buf, fmt)
    return buf.getvalue()


@pytest.fixture(scope="module")
def signer(provenance_keys):
    return load_signer(provenance_keys)


@pytest.fixture(scope="module")
def root_pem(provenance_keys):
    return keys.read_root_pem(provenance_keys)


@pytest.mark.parametrize(("fmt", "mime"), FORMATS)
def test_sign_then_read_trusted(fmt, mime, signer, root_pem):
    signed = sign_image(
        _encoded(fmt),
        mime,
        signer=signer,
        generator_name="Stand-in Generator 1.0",
        generation_id="gen-0001",
        soft_binding=watermark_soft_binding(77),
    )
    reading = read_manifest(signed, mime, root_pem)
    assert reading is not None
    assert reading.validation_state == "Trusted" and reading.trusted
    assert reading.digital_source_types == ("trainedAlgorithmicMedia",)
    assert reading.generator == "Stand-in Generator 1.0"
    assert reading.generation_id == "gen-0001"
    assert reading.errors == ()
    assert reading.soft_bindings[0].alg == WATERMARK_SOFT_BINDING_ALG
    # no anchors: intact but untrusted
    untrusted = read_manifest(signed, mime)
    assert untrusted is not None and untrusted.validation_state == "Valid"


def test_edit_source_type(signer, root_pem):
    signed = sign_image(
        _encoded("PNG"),
        "png",
        signer=signer,
        generator_name="g",
        generation_id=12,
        digital_source_type="compositeWithTrainedAlgorithmicMedia",
    )
    reading = read_manifest(signed, "image/png", root_pem)
    assert reading.digital_source_types == ("compositeWithTrainedAlgorithmicMedia",)
    assert reading.generation_id == "12"


@pytest.mark.parametrize(("fmt", "mime"), FORMATS)
def test_tampering_reads_invalid(fmt, mime, signer, root_pem):
    original = _encoded(fmt)
    signed = bytearray(sign_image(original, mime, signer=signer, generator_name="g", generation_id="x"))
    probe = original[len(original) // 2 : len(original) // 2 + 16]  # compressed pixel data
    at = bytes(signed).find(probe)
    assert at > 0
    signed[at + 8] ^= 0xFF
    reading = read_manifest(bytes(signed), mime, root_pem)
    assert reading is not None and reading.validation_state == "Invalid"
    assert any("dataHash.mismatch" in e for e in reading.errors)


@pytest.mark.parametrize(("fmt", "mime"), FORMATS)
def test_broken_files_give_a_reading_not_an_exception(fmt, mime, signer, root_pem):
    signed = sign_image(_encoded(fmt), mime, signer=signer, generator_name="g", generation_id="x")
    for broken in (signed[: len(signed) // 3], signed[:40] + b"\x00" * 300):
        reading = read_manifest(broken, mime, root_pem)
        assert reading is None or reading.validation_state == "Invalid"


@pytest.mark.parametrize(("fmt", "mime"), FORMATS)
def test_reencode_strips_manifest_and_plain_images_have_none(fmt, mime, signer, root_pem):
    signed = sign_image(_encoded(fmt), mime, signer=signer, generator_name="g", generation_id="x")
    buf = io.BytesIO()
    Image.open(io.BytesIO(signed)).save(buf, fmt)
    assert read_manifest(buf.getvalue(), mime, root_pem) is None
    assert read_manifest(_encoded(fmt), mime, root_pem) is None


def test_other_root_is_not_trusted(signer, tmp_path):
    other = keys.init_provenance_keys(tmp_path / "other", "Other Org")
    signed = sign_image(_encoded("PNG"), "image/png", signer=signer, generator_name="g", generation_id="x")
    reading = read_manifest(signed, "image/png", keys.read_root_pem(other))
    assert reading.validation_state == "Valid" and not reading.trusted


def test_self_signed_leaf_is_rejected_clearly():
    key = ec.generate_private_key(ec.SECP256R1())
    cert = keys._issue(
        keys._name("Org", "Self-signed signer"),
        key,
        issuer=None,
        issuer_key=None,
        ca=False,
        path_length=None,
        days=30,
    )
    signer = signer_from_pem(keys._pem(cert), keys._key_pem(key))
    with pytest.raises(ConfigurationError, match="self-signed"):
        sign_image(_encoded("PNG"), "image/png", signer=signer, generator_name="g", generation_id="x")


def test_unsupported_mime(signer):
    with pytest.raises(UnsupportedMedia):
        sign_image(b"GIF89a", "image/gif", signer=signer, generator_name="g", generation_id="x")
    with pytest.raises(UnsupportedMedia):
        read_manifest(b"GIF89a", "image/gif")


def test_key_files_are_private_and_not_overwritten(tmp_path):
    paths = keys.init_provenance_keys(tmp_path / "k", "Org")
    for path in paths.private_files():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(bytes.fromhex(paths.watermark_key.read_text())) == 32
    before = paths.signer_key.read_bytes()
    with pytest.raises(Conflict):
        keys.init_provenance_keys(tmp_path / "k", "Org")
    assert paths.signer_key.read_bytes() == before
    keys.init_provenance_keys(tmp_path / "k", "Org", force=True)
    assert paths.signer_key.read_bytes() != before


def test_watermark_key_from_env_or_file(tmp_path):
    paths = keys.init_provenance_keys(tmp_path / "k", "Org")
    from_file = keys.load_watermark_key(paths.directory, env={})
    assert from_file.hex() == paths.watermark_key.read_text().strip()
    env_key = keys.load_watermark_key(paths.directory, env={keys.WATERMARK_KEY_ENV: "ab" * 32})
    assert env_key == bytes([0xAB]) * 32
    with pytest.raises(ConfigurationError):
        keys.load_watermark_key(tmp_path / "missing", env={})
    with pytest.raises(ConfigurationError):
        keys.load_provenance_keys(tmp_path / "missing")


def test_edit_output_opens_its_input_as_parent_ingredient(tmp_path, provenance_keys, root_pem):
    """Edits carry c2pa.opened (first) and the input image as the parentOf ingredient; c2pa-python
    validates the result against the root."""
    import json as _json

    import c2pa

    from amparo.provenance.keys import load_watermark_key
    from amparo.proxy.stamping import Stamper

    stamper = Stamper(
        signer=load_signer(provenance_keys),
        watermark_key=load_watermark_key(provenance_keys.directory, env={}),
        generator_name="Gen",
    )
    source = _encoded("PNG", 256)
    edited = _encoded("JPEG", 256)
    out = stamper.stamp(edited, generation_id="g-9", watermark_id=5, edit=True, parent=(source, "image/png"))
    reading = read_manifest(out.data, out.mime, root_pem)
    assert reading is not None and reading.validation_state == "Trusted", reading
    assert reading.actions[0] == "c2pa.opened" and "c2pa.edited" in reading.actions
    assert reading.parent_ingredients == ("input",)
    assert "compositeWithTrainedAlgorithmicMedia" in reading.digital_source_types
    # the raw store, as any C2PA reader sees it: the opened action points at the ingredient
    ctx = c2pa.Context.from_dict({"verify": {"verify_trust": True}, "trust": {"trust_anchors": root_pem}})
    with c2pa.Reader.try_create(out.mime, io.BytesIO(out.data), context=ctx) as r:
        store = _json.loads(r.json())
    manifest = store["manifests"][store["active_manifest"]]
    (ingredient,) = manifest["ingredients"]
    assert ingredient["relationship"] == "parentOf" and ingredient["format"] == "image/png"
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert actions[0]["action"] == "c2pa.opened" and actions[0]["parameters"]["ingredients"]
    # a generation still starts with c2pa.created and has no ingredient
    gen = stamper.stamp(edited, generation_id="g-10", watermark_id=6, edit=False)
    gen_reading = read_manifest(gen.data, gen.mime, root_pem)
    assert gen_reading is not None and gen_reading.actions == ("c2pa.created",)
    assert gen_reading.parent_ingredients == ()
