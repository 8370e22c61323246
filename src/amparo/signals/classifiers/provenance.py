"""The "provenance" detector: does the file itself say it is AI-made?

Three sources, cheapest first:
- generator metadata (generator_markers.yaml): PNG text chunks of generation front ends, EXIF
  Software, XMP creator tools and IPTC digital source types (microseconds);
- a C2PA manifest (amparo.provenance.c2pa_signing.read_manifest), read only when the bytes
  contain a C2PA label (2-4 ms when they do); its digital source types trainedAlgorithmicMedia /
  compositeWithTrainedAlgorithmicMedia declare AI;
- the SDXL invisible watermark (amparo.provenance.watermark.detect_sdxl_watermark), ~65 ms at
  1024 px, so in "auto" mode only where it can survive: width and height multiples of 8 (every
  diffusion output), at most `watermark_max_pixels`, and not a chroma-subsampled JPEG (4:2:0 and
  4:2:2 erase it).

scores {"ai_generated": 0..1}: the strongest single piece of evidence. details {"c2pa": {...} or
None, "sdxl_watermark": {...} or None, "generator": name or None, "evidence": [...]}. A broken
manifest or watermark reader is reported in details, never raised.
"""

from __future__ import annotations

import io
import time
from typing import Any

from amparo.content.images import DecodedImage
from amparo.domain.signals import Classification
from amparo.signals.classifiers.container_metadata import metadata_segments
from amparo.signals.classifiers.generator_metadata import (
    Evidence,
    MarkerTable,
    exif_user_comment,
    find_xmp,
    marker_table,
    match_metadata,
)

PROVENANCE_DETECTOR = "provenance"
PROVENANCE_STAGE = "provenance"
WATERMARK_MODES = ("auto", "always", "never")
_MIME = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
    "BMP": "image/bmp",
}
_C2PA_LABELS = (b"c2pa", b"C2PA")


def _has_c2pa_label(data: bytes) -> bool:
    return any(label in data for label in _C2PA_LABELS)


def _jpeg_subsampled(data: bytes) -> bool:
    """True for JPEGs whose chroma is subsampled (4:2:0 / 4:2:2); reads the header only."""
    try:
        from PIL import Image, JpegImagePlugin

        with Image.open(io.BytesIO(data)) as img:
            return bool(JpegImagePlugin.get_sampling(img) in (1, 2))
    except Exception:
        return True  # unreadable header: treat as hostile to the watermark and skip it


class ProvenanceDetector:
    name = PROVENANCE_DETECTOR
    stage = PROVENANCE_STAGE

    def __init__(
        self,
        *,
        watermark: str = "auto",
        watermark_max_pixels: int = 2048 * 2048,
        trust_anchors_pem: str | bytes | None = None,
        table: MarkerTable | None = None,
    ) -> None:
        if watermark not in WATERMARK_MODES:
            raise ValueError(f"watermark must be one of {WATERMARK_MODES}, got {watermark!r}")
        self.watermark = watermark
        self.watermark_max_pixels = watermark_max_pixels
        self.trust_anchors_pem = trust_anchors_pem
        self._table = table

    def load(self) -> None:
        if self._table is None:
            self._table = marker_table()

    def classify(self, image: DecodedImage, data: bytes) -> Classification:
        started = time.perf_counter()
        if self._table is None:
            self.load()
        assert self._table is not None
        segments = metadata_segments(data, image.format)
        evidence = match_metadata(
            image.metadata,
            find_xmp(segments, image.metadata),
            self._table,
            exif_user_comment(data, image.format, segments),
        )
        c2pa, c2pa_evidence = self._c2pa(image, data, segments)
        evidence.extend(c2pa_evidence)
        watermark, wm_evidence = self._sdxl_watermark(image, data)
        evidence.extend(wm_evidence)
        evidence.sort(key=lambda e: e.confidence, reverse=True)
        score = evidence[0].confidence if evidence else 0.0
        generator = next((e.generator for e in evidence if e.generator and e.confidence > 0), None)
        return Classification(
            detector=self.name,
            scores={"ai_generated": score},
            details={
                "c2pa": c2pa,
                "sdxl_watermark": watermark,
                "generator": generator,
                "evidence": [e.to_dict() for e in evidence],
            },
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )

    def _c2pa(
        self, image: DecodedImage, data: bytes, segments: bytes
    ) -> tuple[dict[str, Any] | None, list[Evidence]]:
        if not _has_c2pa_label(segments):
            return None, []
        mime = _MIME.get(image.format.upper())
        if mime is None:
            return {"error": f"C2PA is not read from {image.format} files"}, []
        try:
            from amparo.provenance.c2pa_signing import read_manifest
        except ImportError as e:
            return {"error": f"C2PA reader not available: {e}"}, []
        try:
            reading = read_manifest(data, mime, self.trust_anchors_pem)
        except Exception as e:  # a hostile manifest must never break the check
            return {"error": f"{type(e).__name__}: {e}"}, []
        if reading is None:
            return None, []
        details = dict(reading.to_dict())
        evidence: list[Evidence] = []
        assert self._table is not None
        for source_type in reading.digital_source_types:
            name = str(source_type).rsplit("/", 1)[-1]
            confidence = self._table.ai_source_types.get(name, 0.0)
            state = reading.validation_state
            evidence.append(
                Evidence(
                    "c2pa",
                    reading.generator,
                    confidence,
                    f"C2PA ({state}) digitalSourceType {name}",
                )
            )
        return details, evidence

    def _watermark_applies(self, image: DecodedImage, data: bytes) -> bool:
        if self.watermark == "never":
            return False
        if self.watermark == "always":
            return True
        w, h = image.width, image.height
        if w % 8 or h % 8 or w * h > self.watermark_max_pixels or w * h < 256 * 256:
            return False
        return not (image.format.upper() in ("JPEG", "MPO") and _jpeg_subsampled(data))

    def _sdxl_watermark(
        self, image: DecodedImage, data: bytes
    ) -> tuple[dict[str, Any] | None, list[Evidence]]:
        if not self._watermark_applies(image, data):
            return None, []
        try:
            from amparo.provenance.watermark import detect_sdxl_watermark
        except ImportError as e:
            return {"error": f"SDXL watermark reader not available: {e}"}, []
        try:
            reading = detect_sdxl_watermark(image.rgb)
        except Exception as e:
            return {"error": f"{type(e).__name__}: {e}"}, []
        level = str(getattr(reading, "level", None) or getattr(reading, "verdict", "none"))
        bits = int(reading.matching_bits)
        details: dict[str, Any] = {"matching_bits": bits, "level": level}
        order = getattr(reading, "channel_order", None)
        if order:
            details["channel_order"] = order
        assert self._table is not None
        confidence = self._table.watermark_levels.get(level, 0.0)
        if level == "none":
            return details, []
        return details, [
            Evidence(
                "sdxl_watermark",
                "Stable Diffusion XL",
                confidence,
                f"SDXL watermark {bits}/48 bits ({level})",
            )
        ]
