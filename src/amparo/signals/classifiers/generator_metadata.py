"""Generator markers in image metadata: the table (generator_markers.yaml) and its matcher."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from amparo.errors import ConfigurationError

MARKERS_RESOURCE = "generator_markers.yaml"
XMP_FIELD = "xmp"
_XMP_START, _XMP_END = b"<x:xmpmeta", b"</x:xmpmeta>"
_XMP_MAX = 512 * 1024
_SOURCE_TYPE = re.compile(r"digitalsourcetype/([A-Za-z]+)")
# A matched value is quoted in the evidence, shortened: prompts can be long and are not ours to log.
_EXCERPT = 80


@dataclass(frozen=True)
class Marker:
    generator: str
    field: str  # lower-cased metadata key, or "xmp"
    pattern: re.Pattern[str] | None
    confidence: float


@dataclass(frozen=True)
class MarkerTable:
    markers: tuple[Marker, ...]
    ai_source_types: dict[str, float]
    watermark_levels: dict[str, float]


@dataclass(frozen=True)
class Evidence:
    source: str  # "metadata", "xmp", "c2pa", "sdxl_watermark"
    generator: str | None
    confidence: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "generator": self.generator,
            "confidence": self.confidence,
            "detail": self.detail,
        }


def _number(value: Any, where: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0.0 <= float(value) <= 1.0
    ):
        raise ConfigurationError(
            f"{MARKERS_RESOURCE}: {where} must be a number in 0..1, got {value!r}"
        )
    return float(value)


def parse_marker_table(text: str) -> MarkerTable:
    """Validate and compile the marker table; ConfigurationError names what is wrong."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigurationError(f"{MARKERS_RESOURCE}: not valid YAML: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("generators"), list):
        raise ConfigurationError(f"{MARKERS_RESOURCE}: needs a 'generators' list")
    markers: list[Marker] = []
    for i, gen in enumerate(doc["generators"]):
        if not isinstance(gen, dict) or not isinstance(gen.get("name"), str):
            raise ConfigurationError(f"{MARKERS_RESOURCE}: generators[{i}] needs a 'name'")
        for j, m in enumerate(gen.get("markers") or []):
            where = f"generators[{i}] ({gen['name']}) markers[{j}]"
            if not isinstance(m, dict) or not isinstance(m.get("field"), str):
                raise ConfigurationError(f"{MARKERS_RESOURCE}: {where} needs a 'field'")
            pattern = None
            if m.get("pattern") is not None:
                try:
                    pattern = re.compile(str(m["pattern"]), re.IGNORECASE | re.DOTALL)
                except re.error as e:
                    raise ConfigurationError(
                        f"{MARKERS_RESOURCE}: {where} bad pattern: {e}"
                    ) from None
            markers.append(
                Marker(
                    gen["name"], m["field"].lower(), pattern, _number(m.get("confidence"), where)
                )
            )
    sources = {
        str(k): _number(v, f"ai_source_types.{k}")
        for k, v in (doc.get("ai_source_types") or {}).items()
    }
    levels = {
        str(k): _number(v, f"sdxl_watermark_levels.{k}")
        for k, v in (doc.get("sdxl_watermark_levels") or {}).items()
    }
    return MarkerTable(tuple(markers), sources, levels)


@lru_cache(maxsize=1)
def marker_table() -> MarkerTable:
    text = (
        resources.files("amparo.signals.classifiers").joinpath(MARKERS_RESOURCE).read_text("utf-8")
    )
    return parse_marker_table(text)


def find_xmp(data: bytes, metadata: dict[str, str]) -> str | None:
    """The XMP packet: PNG's iTXt (already decoded) or the raw packet in JPEG/WebP/TIFF bytes."""
    for key, value in metadata.items():
        if key.lower() in ("xml:com.adobe.xmp", "xmp"):
            return value
    start = data.find(_XMP_START)
    if start < 0:
        return None
    end = data.find(_XMP_END, start, start + _XMP_MAX)
    stop = end + len(_XMP_END) if end >= 0 else min(len(data), start + _XMP_MAX)
    return data[start:stop].decode("utf-8", "replace")


_EXIF_IFD = 0x8769
_USER_COMMENT = 0x9286
_EXIF_FORMATS = ("JPEG", "MPO", "WEBP", "TIFF", "PNG")


def _user_comment_text(raw: bytes | str) -> str:
    """EXIF UserComment: an 8-byte charset header, then the text (A1111 writes UTF-16-BE)."""
    if isinstance(raw, str):
        return raw
    head, body = raw[:8], raw[8:]
    if head.startswith(b"UNICODE"):
        # Big-endian ASCII text has its NULs on even bytes; little-endian on odd ones.
        big = body[0::2].count(0) >= body[1::2].count(0)
        return body.decode("utf-16-be" if big else "utf-16-le", "replace")
    return (body if head.rstrip(b"\0").isalpha() else raw).decode("utf-8", "replace")


def exif_user_comment(data: bytes, image_format: str, segments: bytes | None = None) -> str | None:
    """UserComment from the EXIF sub-IFD (where cameras and A1111 put it); header parse only.

    `segments` (the file's metadata segments) lets us skip files with no EXIF block at all:
    Pillow decodes a whole PNG to look for a late eXIf chunk.
    """
    where = data if segments is None else segments
    if image_format.upper() not in _EXIF_FORMATS or not (b"Exif" in where or b"eXIf" in where):
        return None
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            raw = img.getexif().get_ifd(_EXIF_IFD).get(_USER_COMMENT)
    except Exception:  # corrupt EXIF is not our problem to report here
        return None
    if not raw:
        return None
    return _user_comment_text(raw)[:20000]


def _excerpt(value: str, match: re.Match[str] | None) -> str:
    text = match.group(0) if match else value
    text = " ".join(text.split())
    return text[:_EXCERPT] + ("…" if len(text) > _EXCERPT else "")


def match_metadata(
    metadata: dict[str, str],
    xmp: str | None,
    table: MarkerTable,
    user_comment: str | None = None,
) -> list[Evidence]:
    """Every marker found, strongest first."""
    # UTF-16 text decoded as UTF-8 upstream has NULs between the characters.
    fields = {k.lower(): v.replace("\x00", "") for k, v in metadata.items() if isinstance(v, str)}
    if user_comment:
        fields.setdefault("exif:usercomment", user_comment)
    if xmp is not None:
        fields[XMP_FIELD] = xmp
    found: list[Evidence] = []
    for marker in table.markers:
        value = fields.get(marker.field)
        if value is None:
            continue
        match = marker.pattern.search(value) if marker.pattern is not None else None
        if marker.pattern is not None and match is None:
            continue
        source = "xmp" if marker.field == XMP_FIELD else "metadata"
        detail = f"{marker.field}: {_excerpt(value, match)}" if match else f"{marker.field} present"
        found.append(Evidence(source, marker.generator, marker.confidence, detail))
    if xmp is not None:
        for name in dict.fromkeys(_SOURCE_TYPE.findall(xmp)):
            found.append(
                Evidence(
                    "xmp",
                    None,
                    table.ai_source_types.get(name, 0.0),
                    f"IPTC digital source type {name}",
                )
            )
    return sorted(found, key=lambda e: e.confidence, reverse=True)
