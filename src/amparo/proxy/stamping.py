"""Stamp every image the proxy returns: the keyed invisible watermark, then a signed C2PA manifest.

Order matters: the watermark changes pixels, so it goes first and the manifest (which hashes
the bytes) signs the final file. Keys come from the provenance directory
($AMPARO_PROVENANCE_DIR, else <data_dir>/keys/provenance) made by `amparo provenance init`;
outside production a missing directory is initialised on first use so demos work out of the
box. The watermark key is AMPARO_WATERMARK_KEY when set, else the directory's watermark.key.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from amparo.provenance.c2pa_signing import (
    DigitalSourceType,
    load_signer,
    sign_image,
    watermark_soft_binding,
)
from amparo.provenance.c2pa_video import sign_video
from amparo.provenance.keys import (
    ProvenanceKeyPaths,
    WatermarkKey,
    init_provenance_keys,
    load_provenance_keys,
    load_watermark_key,
    read_root_pem,
)
from amparo.provenance.keys import provenance_dir as keys_provenance_dir
from amparo.provenance.trace import centre_pdq
from amparo.provenance.watermark import MIN_EMBED_SIDE, embed_watermark
from amparo.settings import Settings
from amparo.signals.hashes.pdq import pdq_of_bytes

log = logging.getLogger(__name__)

SOURCE_TYPE_GENERATION: DigitalSourceType = "trainedAlgorithmicMedia"
SOURCE_TYPE_EDIT: DigitalSourceType = "compositeWithTrainedAlgorithmicMedia"
PNG_COMPRESS_LEVEL = 3  # level 6 costs ~0.2 s more per 1024x1024 for ~12 % smaller files
LOSSY_QUALITY = 95
_FORMATS = {
    "PNG": ("PNG", "image/png"),
    "JPEG": ("JPEG", "image/jpeg"),
    "WEBP": ("WEBP", "image/webp"),
}


def provenance_dir(settings: Settings) -> Path:
    return keys_provenance_dir(settings.keys_dir)


def provenance_paths(settings: Settings, *, create: bool) -> ProvenanceKeyPaths:
    """The signer's key paths; created in dev/test when absent and `create`."""
    directory = provenance_dir(settings)
    paths = ProvenanceKeyPaths.in_directory(directory)
    if create and not settings.is_production and not paths.signer_chain.exists():
        log.warning(
            "no provenance keys in %s: creating a private CA for this %s install",
            directory,
            settings.environment,
        )
        init_provenance_keys(directory, "Amparo (" + settings.environment + ")")
    return load_provenance_keys(directory)


def watermark_key_for(settings: Settings) -> WatermarkKey:
    if settings.watermark_key:
        return WatermarkKey.from_hex(settings.watermark_key)
    return load_watermark_key(provenance_dir(settings), env={})


def trust_anchor_for(settings: Settings) -> str | None:
    paths = ProvenanceKeyPaths.in_directory(provenance_dir(settings))
    return read_root_pem(paths) if paths.root_cert.exists() else None


@dataclass(frozen=True)
class StampedImage:
    data: bytes
    mime: str
    sha256: str
    pdq: str | None
    pdq_quality: int | None
    pdq_centre: str  # PDQ of the central 80 %: cropped copies still match (provenance/trace.py)
    watermark_id: int | None  # None when the image is too small to carry the mark
    width: int
    height: int


class Stamper:
    def __init__(self, *, signer: object, watermark_key: bytes, generator_name: str) -> None:
        self._signer = signer
        self._key = watermark_key
        self.generator_name = generator_name
        self._lock = threading.Lock()  # one signer handle; not documented as thread-safe

    @classmethod
    def from_settings(cls, settings: Settings) -> Stamper:
        paths = provenance_paths(settings, create=True)
        return cls(
            signer=load_signer(paths),
            watermark_key=watermark_key_for(settings),
            generator_name=settings.generator_name,
        )

    def stamp(
        self,
        data: bytes,
        *,
        generation_id: str,
        watermark_id: int,
        edit: bool,
        model: str | None = None,
        parent: tuple[bytes, str] | None = None,
    ) -> StampedImage:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            fmt, mime = _FORMATS.get((img.format or "").upper(), _FORMATS["PNG"])
            alpha = img.getchannel("A") if img.mode in ("RGBA", "LA") else None
            rgb = np.asarray(img.convert("RGB"))
        h, w = rgb.shape[:2]
        wm_id: int | None = watermark_id
        if min(h, w) >= MIN_EMBED_SIDE:
            rgb = embed_watermark(rgb, watermark_id, self._key)
        else:
            wm_id = None  # too small for the mark: the manifest and the PDQ still link it
        out = Image.fromarray(rgb)
        if alpha is not None and fmt != "JPEG":
            out = out.convert("RGBA")
            out.putalpha(alpha)
        buf = io.BytesIO()
        if fmt == "PNG":
            out.save(buf, "PNG", compress_level=PNG_COMPRESS_LEVEL)
        else:
            out.save(buf, fmt, quality=LOSSY_QUALITY)
        with self._lock:
            signed = sign_image(
                buf.getvalue(),
                mime,
                signer=self._signer,  # type: ignore[arg-type]
                generator_name=self.generator_name,
                generation_id=generation_id,
                digital_source_type=SOURCE_TYPE_EDIT if edit else SOURCE_TYPE_GENERATION,
                soft_binding=watermark_soft_binding(wm_id) if wm_id is not None else None,
                generator_version=model[:100] if model else None,
                parent=parent if edit else None,
            )
        pdq, quality = pdq_of_bytes(signed)
        centre = centre_pdq(rgb)
        return StampedImage(
            data=signed,
            mime=mime,
            sha256=hashlib.sha256(signed).hexdigest(),
            pdq=pdq,
            pdq_quality=quality,
            pdq_centre=centre,
            watermark_id=wm_id,
            width=w,
            height=h,
        )

    def sign_video(self, data: bytes, *, generation_id: str, model: str | None = None) -> bytes:
        """A signed C2PA manifest in the MP4 (no watermark in the frames: vPDQ links copies)."""
        with self._lock:
            return sign_video(
                data,
                signer=self._signer,  # type: ignore[arg-type]
                generator_name=self.generator_name,
                generation_id=generation_id,
                digital_source_type=SOURCE_TYPE_GENERATION,
                generator_version=model[:100] if model else None,
            )

    def sign_preview(self, data: bytes, mime: str, *, generation_id: str, model: str | None = None) -> bytes:
        """A video's thumbnail or spritesheet, signed as generated (drawn from the scanned frames)."""
        with self._lock:
            return sign_image(
                data,
                mime,
                signer=self._signer,  # type: ignore[arg-type]
                generator_name=self.generator_name,
                generation_id=generation_id,
                digital_source_type=SOURCE_TYPE_GENERATION,
                generator_version=model[:100] if model else None,
            )
