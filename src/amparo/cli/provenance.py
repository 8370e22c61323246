"""`amparo provenance init|verify`: make the provenance keys; check images for C2PA + watermark."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from PIL import Image, UnidentifiedImageError

from amparo.content.mime import sniff_image_mime
from amparo.errors import AmparoError
from amparo.provenance.c2pa_signing import read_manifest
from amparo.provenance.keys import (
    PROVENANCE_DIR_ENV,
    WATERMARK_KEY_ENV,
    WATERMARK_KEY_FILE,
    ProvenanceKeyPaths,
    init_provenance_keys,
    provenance_dir,
    watermark_key_or_none,
)
from amparo.provenance.watermark import detect_sdxl_watermark, read_watermark
from amparo.settings import Settings

MAX_VERIFY_BYTES = 64 * 1024 * 1024
_DIR_HELP = f"key directory (default ${PROVENANCE_DIR_ENV}, else <data dir>/keys/provenance as the proxy uses)"


def _default_dir() -> Path:
    # The same directory the proxy signs with: resolved from the data dir, never the working dir.
    return provenance_dir(Settings().keys_dir)


def _fail(message: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"error": message}))
    else:
        typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def init_command(
    directory: Annotated[Path | None, typer.Option("--dir", help=_DIR_HELP)] = None,
    organisation: Annotated[
        str, typer.Option("--organisation", help="organisation name in the certificates")
    ] = "Amparo",
    force: Annotated[bool, typer.Option("--force", help="replace existing keys")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Create a private root CA, an intermediate, the ES256 C2PA signer and a watermark key."""
    target = directory or _default_dir()
    try:
        paths = init_provenance_keys(target, organisation, force=force)
    except AmparoError as exc:
        _fail(exc.message, as_json)
        return
    files = {
        "root_cert": str(paths.root_cert),
        "intermediate_cert": str(paths.intermediate_cert),
        "signer_chain": str(paths.signer_chain),
        "signer_key": str(paths.signer_key),
        "watermark_key": str(paths.watermark_key),
    }
    if as_json:
        typer.echo(json.dumps({"directory": str(paths.directory), "files": files}))
        return
    typer.echo(f"provenance keys written to {paths.directory}")
    for name, path in files.items():
        typer.echo(f"  {name:18s} {path}")
    typer.echo(
        f"Give {paths.root_cert.name} to anyone who should see your manifests as Trusted. "
        f"Keep {paths.root_key.name} offline."
    )


def _verify_one(path: Path, root_pem: str | None, key: bytes | None, key_dir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"image": str(path)}
    try:
        if path.stat().st_size > MAX_VERIFY_BYTES:
            out["error"] = "file too large"
            return out
        data = path.read_bytes()
    except OSError as exc:
        out["error"] = f"cannot read: {exc.strerror}"
        return out
    mime = sniff_image_mime(data)
    out["mime"] = mime
    if mime is None:
        out["error"] = "not a JPEG, PNG or WebP image"
        return out
    manifest = read_manifest(data, mime, root_pem)
    out["manifest"] = manifest.to_dict() if manifest else None
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            rgb = img.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        out["error"] = f"cannot decode the image: {exc}"
        return out
    if key is None:
        # Without the key nothing can be said about Amparo's mark: never report "none" here.
        out["watermark"] = {
            "status": "key_missing",
            "detail": f"no watermark key ({key_dir / WATERMARK_KEY_FILE} absent, {WATERMARK_KEY_ENV} unset): "
            "whether the image carries Amparo's watermark is unknown",
        }
    else:
        reading = read_watermark(rgb, key)
        out["watermark"] = (
            {
                "status": "found",
                "id": reading.id,
                "id_hex": f"{reading.id:016x}",
                "confidence": reading.confidence,
                "bit_errors": reading.bit_errors,
                "coded_bits": reading.coded_bits,
                "method": reading.method,
            }
            if reading
            else {"status": "none"}
        )
    sdxl = detect_sdxl_watermark(rgb)
    out["sdxl_watermark"] = {"verdict": sdxl.verdict, "matching_bits": sdxl.matching_bits}
    return out


def _print_result(result: dict[str, Any]) -> None:
    typer.echo(result["image"])
    if "error" in result:
        typer.echo(f"  error: {result['error']}")
    manifest = result.get("manifest")
    if "manifest" in result:
        if manifest is None:
            typer.echo("  C2PA: no manifest")
        else:
            typer.echo(
                f"  C2PA: {manifest['validation_state']}  generator={manifest['generator']}  "
                f"generation_id={manifest['generation_id']}  "
                f"source={','.join(manifest['digital_source_types']) or '-'}"
            )
            for err in manifest["errors"]:
                typer.echo(f"    ! {err}")
    if "trust_anchor" in result:
        typer.echo(f"  trust anchor {result['trust_anchor']}")
    wm = result.get("watermark")
    if wm is not None:
        if wm["status"] == "found":
            typer.echo(
                f"  watermark: id={wm['id']} (0x{wm['id_hex']})  confidence={wm['confidence']}"
                f"  bit_errors={wm['bit_errors']}/{wm['coded_bits']}"
            )
        elif wm["status"] == "key_missing":
            typer.echo(f"  watermark: UNKNOWN - {wm['detail']}")
        else:
            typer.echo(f"  watermark: {wm['status']}")
    sdxl = result.get("sdxl_watermark")
    if sdxl is not None:
        typer.echo(f"  SDXL watermark: {sdxl['verdict']} ({sdxl['matching_bits']}/48 bits)")


def verify_command(
    images: Annotated[list[Path], typer.Argument(help="image files (JPEG, PNG, WebP)")],
    directory: Annotated[Path | None, typer.Option("--dir", help=_DIR_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Print each image's C2PA manifest reading and Amparo watermark reading."""
    paths = ProvenanceKeyPaths.in_directory(directory or _default_dir())
    root_pem = paths.root_cert.read_text("ascii") if paths.root_cert.is_file() else None
    key: bytes | None = None
    try:
        key = watermark_key_or_none(os.environ.get(WATERMARK_KEY_ENV, "").strip() or None, paths.directory)
    except AmparoError as exc:
        _fail(exc.message, as_json)  # a malformed key is an error, not "no watermark"
    results = [_verify_one(p, root_pem, key, paths.directory) for p in images]
    for r in results:
        if root_pem is None and r.get("manifest"):
            r["trust_anchor"] = f"missing: {paths.root_cert} (a good manifest reads Valid, not Trusted)"
    if as_json:
        typer.echo(json.dumps(results, indent=2))
    else:
        for result in results:
            _print_result(result)
    if any("error" in r for r in results):
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add the `provenance` command group to the main Typer app."""
    sub = typer.Typer(help="C2PA signing keys and provenance checks", no_args_is_help=True)
    sub.command("init")(init_command)
    sub.command("verify")(verify_command)
    app.add_typer(sub, name="provenance")
