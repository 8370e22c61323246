"""The non-pixel parts of an image file, found by walking its container (no decoding).

Searching a whole multi-megabyte file for a C2PA label or an XMP packet costs milliseconds per
search; the segments outside the compressed pixels are usually a few kilobytes. JPEG: every
segment before the scan (APP1 EXIF/XMP, APP11 C2PA). PNG: every chunk but IDAT/fdAT. WebP:
every RIFF chunk but the bitstreams. Other formats, or a malformed container: the whole file.
"""

from __future__ import annotations

import struct

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_PIXELS = {b"IDAT", b"fdAT"}
_WEBP_PIXELS = {b"VP8 ", b"VP8L", b"ALPH", b"ANMF"}


def _jpeg(data: bytes) -> bytes | None:
    if not data.startswith(b"\xff\xd8"):
        return None
    parts: list[bytes] = []
    pos, n = 2, len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or marker == 0xD9:  # start of scan / end of image
            return b"".join(parts)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length field
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2:
            return None
        parts.append(data[pos + 4 : pos + 2 + length])
        pos += 2 + length
    return b"".join(parts)


def _png(data: bytes) -> bytes | None:
    if not data.startswith(_PNG_SIGNATURE):
        return None
    parts: list[bytes] = []
    pos, n = len(_PNG_SIGNATURE), len(data)
    while pos + 8 <= n:
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if pos + 12 + length > n:
            return None
        if kind not in _PNG_PIXELS:
            parts.append(kind + data[pos + 8 : pos + 8 + length])
        if kind == b"IEND":
            break
        pos += 12 + length
    return b"".join(parts)


def _webp(data: bytes) -> bytes | None:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    parts: list[bytes] = []
    pos, n = 12, len(data)
    while pos + 8 <= n:
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        if pos + 8 + length > n:
            return None
        if kind not in _WEBP_PIXELS:
            parts.append(kind + data[pos + 8 : pos + 8 + length])
        pos += 8 + length + (length & 1)
    return b"".join(parts)


def metadata_segments(data: bytes, image_format: str) -> bytes:
    """The bytes of `data` that can hold metadata; the whole file when the container is unknown."""
    walker = {"JPEG": _jpeg, "MPO": _jpeg, "PNG": _png, "WEBP": _webp}.get(image_format.upper())
    found = walker(data) if walker else None
    return data if found is None else found
