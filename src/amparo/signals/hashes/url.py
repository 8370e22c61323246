"""URL lists as a bank signal type: `url_sha256`, the SHA-256 of a canonical URL.

Dataset publishers clean their copies by URL as well as by hash (LAION's re-release dropped links
whose URLs or images matched the lists). A bank stores the SHA-256 of the canonical URL, never the
URL itself, so a bank of known abuse URLs is not itself a list of where to find the material. A
value given to a bank or a lookup may be the 64-hex digest or a plain http(s) URL, which is
canonicalised and hashed here. No image hashes to a URL: `hash_image` returns None."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit, urlunsplit

from amparo.content.images import DecodedImage
from amparo.domain.signals import Signal
from amparo.errors import BadInput

NAME = "url_sha256"
_HEX = re.compile(r"^[0-9a-f]{64}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, default port and fragment dropped, empty path as "/"; the path
    and query are kept byte for byte (servers may treat them case-sensitively)."""
    raw = url.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise BadInput(f"malformed URL {raw[:80]!r}", code="bad_hash") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise BadInput(f"not an http(s) URL: {raw[:80]!r}", code="bad_hash")
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += ":" + parts.password
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def url_sha256(url: str) -> str:
    return hashlib.sha256(canonical_url(url).encode("utf-8")).hexdigest()


class UrlSha256Type:
    name = NAME
    match_kind = "exact"

    def hash_bytes(self, data: bytes) -> Signal | None:
        return None

    def hash_image(self, image: DecodedImage, data: bytes) -> Signal | None:
        return None

    def signal_of_url(self, url: str) -> Signal:
        return Signal(NAME, url_sha256(url))

    def normalise(self, value: str) -> str:
        v = value.strip()
        if _HEX.match(v.lower()):
            return v.lower()
        if "://" in v:
            return url_sha256(v)
        raise BadInput(f"malformed url_sha256 value {value[:80]!r}: a URL or 64 hex characters", code="bad_hash")


URL_SHA256 = UrlSha256Type()
