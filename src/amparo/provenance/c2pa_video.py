"""C2PA manifests for generated videos (MP4/MOV, ISO BMFF): the same manifest as for images.

c2pa-python signs BMFF offline (the manifest goes into a `uuid` box and a `c2pa.hash.bmff`
assertion covers every other box), with the private-CA signer of `amparo provenance init` and no
timestamp authority. The video decodes as before: players skip the box. Like images, a re-encoded
copy loses the manifest; `amparo trace` then falls back to the ledger's vPDQ (trace_video.py)."""

from __future__ import annotations

import io
import json

import c2pa

from amparo.errors import BadInput, ConfigurationError
from amparo.provenance.c2pa_signing import (
    _SIGN_CONTEXT_SETTINGS,
    DIGITAL_SOURCE_TYPES,
    ManifestReading,
    _manifest,
    _reader_context,
    _reading_from_store,
)

VIDEO_MIME_TYPES = ("video/mp4", "video/quicktime")
MAX_VIDEO_BYTES = 1024 * 1024 * 1024


def video_mime(data: bytes) -> str | None:
    """video/mp4 or video/quicktime for an ISO BMFF file, else None (C2PA cannot sign it here)."""
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:12] == b"qt  " else "video/mp4"
    return None


def sign_video(
    data: bytes,
    *,
    signer: c2pa.Signer,
    generator_name: str,
    generation_id: str,
    digital_source_type: str = "trainedAlgorithmicMedia",
    generator_version: str | None = None,
) -> bytes:
    """Return the MP4/MOV with an embedded, signed C2PA manifest (c2pa.created, the IPTC source
    type, the generator, org.amparo.generation with the generation id)."""
    mime = video_mime(data)
    if mime is None:
        raise BadInput("C2PA signing of video supports MP4 and MOV (ISO BMFF) only", code="unsupported_media")
    if digital_source_type not in DIGITAL_SOURCE_TYPES:
        raise BadInput(f"digital_source_type must be one of {', '.join(DIGITAL_SOURCE_TYPES)}")
    if not generation_id or len(generation_id) > 200 or not generator_name or len(generator_name) > 200:
        raise BadInput("generator_name and generation_id must be 1-200 characters")
    if len(data) > MAX_VIDEO_BYTES:
        raise BadInput("video too large to sign")
    manifest = _manifest(generator_name, generator_version, generation_id, digital_source_type, None)
    dst = io.BytesIO()
    try:
        with c2pa.Builder(manifest, c2pa.Context.from_dict(_SIGN_CONTEXT_SETTINGS)) as builder:
            builder.sign(signer, mime, io.BytesIO(data), dst)
    except c2pa.C2paError.Signature as exc:
        raise ConfigurationError(
            f"C2PA rejected the signing certificate ({exc})", code="invalid_signing_certificate"
        ) from exc
    except c2pa.C2paError as exc:
        raise BadInput(f"C2PA signing failed: {exc}", code="c2pa_signing_failed") from exc
    return dst.getvalue()


def read_video_manifest(data: bytes, trust_anchors_pem: str | bytes | None = None) -> ManifestReading | None:
    """The video's C2PA manifest and whether it validates; None when it carries none (or is not BMFF)."""
    mime = video_mime(data)
    if mime is None:
        return None
    try:
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data), context=_reader_context(trust_anchors_pem))
        if reader is None:
            return None
        with reader:
            store = json.loads(reader.json())
            state = str(reader.get_validation_state() or store.get("validation_state") or "")
    except c2pa.C2paError as exc:
        return ManifestReading(validation_state="Invalid", errors=(f"{type(exc).__name__}: {exc}",))
    except (ValueError, TypeError, OSError) as exc:
        return ManifestReading(validation_state="Invalid", errors=(f"unreadable manifest: {exc}",))
    if state not in ("Trusted", "Valid", "Invalid"):
        state = "Invalid"
    return _reading_from_store(store, state)
