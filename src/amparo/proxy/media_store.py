"""Images answered in `url` format: stored under the data directory, served by an unguessable
token that expires (like the OpenAI API's 60-minute URLs).

The token is 256 random bits; on disk only its SHA-256 names the file, so a directory listing
does not give working URLs. Files are 0600 and expire by age; expired ones are removed when
read and by `sweep()`, which runs on every write at most once a minute."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
from pathlib import Path

MEDIA_SUBDIR = "proxy_media"
DEFAULT_TTL_SECONDS = 3600
SWEEP_INTERVAL_SECONDS = 60
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class MediaStore:
    def __init__(self, root: Path, *, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self.root = root
        self.ttl_seconds = ttl_seconds
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._last_sweep = 0.0
        self._lock = threading.Lock()

    def _path(self, token: str) -> Path:
        return self.root / (hashlib.sha256(token.encode("ascii")).hexdigest() + ".bin")

    def put(self, data: bytes) -> str:
        token = secrets.token_urlsafe(32)
        path = self._path(token)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        self._maybe_sweep()
        return token

    def get(self, token: str) -> bytes | None:
        if not _TOKEN.match(token):
            return None
        path = self._path(token)
        try:
            if time.time() - path.stat().st_mtime > self.ttl_seconds:
                path.unlink(missing_ok=True)
                return None
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def sweep(self) -> int:
        cutoff = time.time() - self.ttl_seconds
        removed = 0
        for p in self.root.glob("*.bin"):
            try:
                if p.stat().st_mtime < cutoff:
                    p.unlink(missing_ok=True)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def _maybe_sweep(self) -> None:
        now = time.time()
        with self._lock:
            if now - self._last_sweep < SWEEP_INTERVAL_SECONDS:
                return
            self._last_sweep = now
        self.sweep()
