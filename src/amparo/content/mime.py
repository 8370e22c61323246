"""Image media types from the first bytes (what C2PA signing/reading and the proxy need to know)."""

from __future__ import annotations

_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


def sniff_image_mime(data: bytes) -> str | None:
    """`image/jpeg`, `image/png`, `image/webp`, or None for anything else."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
