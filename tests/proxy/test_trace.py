"""`amparo trace` (library, HTTP route, CLI) finds the ledger record of a proxy output after the
copy was re-encoded, resized and cropped (manifest gone)."""

from __future__ import annotations

import base64
import io
import json

import httpx
import pytest
from PIL import Image
from typer.testing import CliRunner

from amparo.provenance.trace import Tracer, pdq_confidence, pdq_distances
from amparo.provenance.watermark import WatermarkKey

from .sample_images import png_bytes, reencode_resize_crop


@pytest.fixture
def generated(proxy):  # type: ignore[no-untyped-def]
    """One 1024x1024 proxy output and a mangled copy of it."""
    r = proxy.client.images.generate(
        prompt="a harbour with sailing boats",
        size="1024x1024",
        extra_headers={"X-Amparo-Account": "acct-trace"},
    )
    out = base64.b64decode(r.data[0].b64_json)
    proxy.client.images.generate(prompt="an orchard in spring", size="1024x1024")  # a second record
    return out, reencode_resize_crop(out), r


def test_untouched_output_is_traced_by_its_manifest(proxy, generated) -> None:  # type: ignore[no-untyped-def]
    out, _, r = generated
    res = Tracer.for_service(proxy.service).trace(out)
    assert res.found and res.method == "c2pa" and res.confidence == 1.0
    assert res.generation["account"] == "acct-trace" and res.output_index == 0
    assert res.evidence["manifest"]["validation_state"] == "Trusted"


def test_mangled_copy_is_traced_by_the_watermark(proxy, generated) -> None:  # type: ignore[no-untyped-def]
    out, copy, _ = generated
    with Image.open(io.BytesIO(copy)) as img:
        assert img.format == "JPEG" and img.size == (921, 921)
    res = Tracer.for_service(proxy.service).trace(copy)
    assert [s["method"] for s in res.steps] == ["c2pa", "sha256", "watermark"]
    assert res.steps[0]["result"] == "no manifest"
    assert res.found and res.method == "watermark" and res.confidence > 0.999
    rec = proxy.ledger.get(res.generation["generation_id"])
    assert res.generation["account"] == "acct-trace" and rec is not None
    assert res.evidence["watermark_id"] == rec["outputs"][0]["watermark_id"]


@pytest.mark.parametrize("key", [None, WatermarkKey.from_hex("33" * 32)], ids=["no_key", "wrong_key"])
def test_without_the_watermark_key_pdq_finds_it(proxy, generated, key) -> None:  # type: ignore[no-untyped-def]
    out, copy, _ = generated
    res = Tracer.for_service(proxy.service, watermark_key=key).trace(copy)
    assert res.found and res.method == "pdq", res.steps
    assert res.generation["account"] == "acct-trace"
    assert res.evidence["distance"] <= res.evidence["threshold"]
    assert 0.5 <= res.confidence <= 0.9
    # the other generation is not mistaken for it
    assert all(c["generation_id"] != res.generation["generation_id"] for c in res.candidates)


def test_unrelated_image_is_not_traced(proxy, generated) -> None:  # type: ignore[no-untyped-def]
    res = Tracer.for_service(proxy.service).trace(png_bytes(512, 11))
    assert not res.found and res.method is None
    assert [s["method"] for s in res.steps] == ["c2pa", "sha256", "watermark", "pdq"]


def test_pdq_helpers() -> None:
    a = "0" * 64
    assert list(pdq_distances(a, ["0" * 64, "f" * 64, "1" + "0" * 63])) == [0, 256, 1]
    assert pdq_confidence(0, 31) == 0.9 and pdq_confidence(31, 31) == 0.5


def test_trace_http_route(proxy, generated) -> None:  # type: ignore[no-untyped-def]
    _, copy, _ = generated
    files = {"file": ("copy.jpg", copy, "image/jpeg")}
    r = httpx.post(
        proxy.url + "/v1/trace",
        files=files,
        headers={"Authorization": f"Bearer {proxy.keys['reviewer']}"},
    )
    assert r.status_code == 200 and r.json()["method"] == "watermark"
    assert "prompt" not in r.json()["generation"]
    r = httpx.post(
        proxy.url + "/v1/trace",
        files=files,
        headers={"Authorization": f"Bearer {proxy.keys['submitter']}"},
    )
    assert r.status_code == 403
    r = httpx.post(
        proxy.url + "/v1/trace",
        files={"file": ("x.png", b"not an image", "image/png")},
        headers={"Authorization": f"Bearer {proxy.keys['admin']}"},
    )
    assert r.status_code in (400, 415) and "Traceback" not in r.text


def test_trace_cli(proxy, generated, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from amparo.cli.main import app

    out, copy, _ = generated
    (tmp_path / "copy.jpg").write_bytes(copy)
    (tmp_path / "other.png").write_bytes(png_bytes(512, 12))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    s = proxy.service.settings
    env = {
        "AMPARO_ENVIRONMENT": "test",
        "AMPARO_DATA_DIR": str(s.data_dir),
        "AMPARO_DATABASE_URL": s.resolved_database_url,
        "AMPARO_MASTER_KEY": s.master_key,
        "AMPARO_WATERMARK_KEY": s.watermark_key,
        "AMPARO_SESSION_SECRET": "s" * 32,
        "AMPARO_DETECTORS": "none",
    }
    res = CliRunner().invoke(
        app,
        [
            "trace",
            "--json",
            "--show-prompt",
            str(tmp_path / "copy.jpg"),
            str(tmp_path / "other.png"),
            str(tmp_path / "broken.png"),
        ],
        env=env,
    )
    lines = [json.loads(x) for x in res.stdout.strip().splitlines()]
    assert len(lines) == 3 and res.exit_code == 2
    assert lines[0]["found"] and lines[0]["method"] == "watermark"
    assert lines[0]["generation"]["account"] == "acct-trace"
    assert lines[0]["prompt"] == "a harbour with sailing boats"
    assert lines[1]["found"] is False
    assert "error" in lines[2]
    res = CliRunner().invoke(app, ["trace", str(tmp_path / "copy.jpg")], env=env)
    assert res.exit_code == 0 and "via watermark" in res.stdout
