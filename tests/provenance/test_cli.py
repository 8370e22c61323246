from __future__ import annotations

import io
import json

import typer
from PIL import Image
from typer.testing import CliRunner

from amparo.cli.provenance import register
from amparo.provenance.c2pa_signing import load_signer, sign_image, watermark_soft_binding
from amparo.provenance.keys import WATERMARK_KEY_ENV, load_watermark_key
from amparo.provenance.watermark import embed_watermark
from amparo.provenance.watermark_samples import draw_benign_image


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """test root"""

    register(app)
    return app


def test_init_then_verify(tmp_path, monkeypatch):
    monkeypatch.delenv(WATERMARK_KEY_ENV, raising=False)
    runner, app, kdir = CliRunner(), _app(), tmp_path / "keys"
    result = runner.invoke(app, ["provenance", "init", "--dir", str(kdir), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["directory"] == str(kdir)
    again = runner.invoke(app, ["provenance", "init", "--dir", str(kdir)])
    assert again.exit_code == 2 and "already exist" in again.output
    assert runner.invoke(app, ["provenance", "init", "--dir", str(kdir), "--force"]).exit_code == 0

    from amparo.provenance.keys import ProvenanceKeyPaths

    paths = ProvenanceKeyPaths.in_directory(kdir)
    marked = embed_watermark(draw_benign_image(2, 512), 4242, load_watermark_key(kdir, env={}))
    buf = io.BytesIO()
    Image.fromarray(marked).save(buf, "PNG")
    signed = sign_image(
        buf.getvalue(),
        "image/png",
        signer=load_signer(paths),
        generator_name="Gen",
        generation_id="g-1",
        soft_binding=watermark_soft_binding(4242),
    )
    good = tmp_path / "signed.png"
    good.write_bytes(signed)
    stripped = tmp_path / "stripped.jpg"
    Image.fromarray(marked).save(stripped, "JPEG", quality=75)

    result = runner.invoke(app, ["provenance", "verify", "--dir", str(kdir), "--json", str(good), str(stripped)])
    assert result.exit_code == 0, result.output
    first, second = json.loads(result.output)
    assert first["manifest"]["validation_state"] == "Trusted"
    assert first["manifest"]["generation_id"] == "g-1"
    assert first["watermark"]["id"] == 4242
    assert second["manifest"] is None
    assert second["watermark"]["id"] == 4242

    text = runner.invoke(app, ["provenance", "verify", "--dir", str(kdir), str(stripped)])
    assert "id=4242" in text.output and "no manifest" in text.output

    monkeypatch.setenv(WATERMARK_KEY_ENV, "00" * 32)  # another key: the mark is unreadable
    other = runner.invoke(app, ["provenance", "verify", "--dir", str(kdir), "--json", str(stripped)])
    assert json.loads(other.output)[0]["watermark"]["status"] == "none"


def test_verify_reports_unreadable_files(tmp_path, monkeypatch):
    monkeypatch.setenv(WATERMARK_KEY_ENV, "11" * 32)
    bogus = tmp_path / "x.png"
    bogus.write_bytes(b"not an image")
    result = CliRunner().invoke(
        _app(),
        ["provenance", "verify", "--dir", str(tmp_path), str(bogus), str(tmp_path / "missing.png")],
    )
    assert result.exit_code == 1
    assert "not a JPEG" in result.output and "cannot read" in result.output
    bad = CliRunner().invoke(_app(), ["provenance", "verify", str(bogus)], env={WATERMARK_KEY_ENV: "zz"})
    assert bad.exit_code == 2


def _marked_png(tmp_path, key_dir, payload: int):  # type: ignore[no-untyped-def]
    marked = embed_watermark(draw_benign_image(3, 512), payload, load_watermark_key(key_dir, env={}))
    path = tmp_path / f"marked-{payload}.png"
    Image.fromarray(marked).save(path, "PNG")
    return path


def test_one_key_location_resolved_from_the_data_dir(tmp_path, monkeypatch):
    """init and verify without --dir use <data dir>/keys/provenance, the proxy's directory."""
    from amparo.proxy.stamping import provenance_dir
    from amparo.settings import Settings

    monkeypatch.delenv(WATERMARK_KEY_ENV, raising=False)
    monkeypatch.delenv("AMPARO_PROVENANCE_DIR", raising=False)
    monkeypatch.setenv("AMPARO_DATA_DIR", str(tmp_path / "datadir"))
    monkeypatch.chdir(tmp_path)
    runner, app = CliRunner(), _app()
    made = runner.invoke(app, ["provenance", "init", "--json"])
    assert made.exit_code == 0, made.output
    directory = json.loads(made.output)["directory"]
    assert directory == str(tmp_path / "datadir" / "keys" / "provenance")
    assert directory == str(provenance_dir(Settings()))
    assert not (tmp_path / "data").exists()  # no second CA under the working directory

    image = _marked_png(tmp_path, tmp_path / "datadir" / "keys" / "provenance", 777)
    seen = runner.invoke(app, ["provenance", "verify", "--json", str(image)])
    assert seen.exit_code == 0, seen.output
    assert json.loads(seen.output)[0]["watermark"]["id"] == 777


def test_verify_without_the_key_says_so_never_none(tmp_path, monkeypatch):
    monkeypatch.delenv(WATERMARK_KEY_ENV, raising=False)
    runner, app = CliRunner(), _app()
    kdir = tmp_path / "keys"
    assert runner.invoke(app, ["provenance", "init", "--dir", str(kdir)]).exit_code == 0
    image = _marked_png(tmp_path, kdir, 99)
    (kdir / "watermark.key").unlink()
    out = runner.invoke(app, ["provenance", "verify", "--dir", str(kdir), "--json", str(image)])
    wm = json.loads(out.output)[0]["watermark"]
    assert wm["status"] == "key_missing" and "unknown" in wm["detail"]
    text = runner.invoke(app, ["provenance", "verify", "--dir", str(kdir), str(image)]).output
    assert "  watermark: UNKNOWN" in text and "\n  watermark: none" not in text
