"""Exact hashes of the bytes exactly as received: MD5, SHA-1, SHA-256 (NCMEC and hash lists use all three)."""

from __future__ import annotations

import hashlib
import re

from amparo.content.images import DecodedImage
from amparo.domain.signals import Signal
from amparo.errors import BadInput


class CryptographicHasher:
    match_kind = "exact"

    def __init__(self, name: str, algorithm: str, hex_len: int) -> None:
        self.name = name
        self._algorithm = algorithm
        self._pattern = re.compile(rf"^[0-9a-f]{{{hex_len}}}$")

    def hash_bytes(self, data: bytes) -> Signal | None:
        return Signal(self.name, hashlib.new(self._algorithm, data).hexdigest())

    def hash_image(self, image: DecodedImage, data: bytes) -> Signal | None:
        return self.hash_bytes(data)

    def normalise(self, value: str) -> str:
        v = value.strip().lower()
        if not self._pattern.match(v):
            raise BadInput(f"malformed {self.name} hash {value[:80]!r}", code="bad_hash")
        return v


MD5 = CryptographicHasher("md5", "md5", 32)
SHA1 = CryptographicHasher("sha1", "sha1", 40)
SHA256 = CryptographicHasher("sha256", "sha256", 64)
