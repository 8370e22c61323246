"""Per-row MACs: HMAC-SHA256 over a row's every column, keyed by a secret that never enters the DB.

The key is `<data dir>/keys/integrity.key` (32 random bytes, hex, mode 0600, created on first
use like the audit signing key) or $AMPARO_INTEGRITY_KEY. Someone who can write the database but
not read that key cannot make an edited, inserted or copied row verify:

* a row's MAC covers its table, primary key and every other column, as the database returns them
  (so the same values read back always give the same bytes on SQLite and PostgreSQL);
* a table's head holds the row count and the XOR of keyed presence tokens of its primary keys,
  itself MAC'd: a row deleted outside Amparo leaves the head unbalanced.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from amparo.errors import ConfigurationError

KEY_FILE = "integrity.key"
KEY_ENV = "AMPARO_INTEGRITY_KEY"
MAC_COLUMN = "row_mac"
ZERO = "0" * 64


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "hex:" + bytes(value).hex()
    if isinstance(value, Decimal):
        return str(value)
    return value


def canonical_row(row: dict[str, Any]) -> bytes:
    body = {k: _plain(v) for k, v in row.items() if k != MAC_COLUMN}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


class RowSealer:
    """Computes row MACs, presence tokens and head MACs with one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ConfigurationError("the integrity key must be at least 32 bytes")
        self._key = key
        self.key_id = hashlib.sha256(b"amparo-integrity-key-id\n" + key).hexdigest()[:16]

    def _mac(self, label: bytes, body: bytes) -> str:
        return hmac.new(self._key, label + b"\n" + body, hashlib.sha256).hexdigest()

    def row_mac(self, table: str, row: dict[str, Any]) -> str:
        return self._mac(b"amparo-row/1|" + table.encode(), canonical_row(row))

    def presence(self, table: str, pk: int) -> int:
        return int(self._mac(b"amparo-presence/1|" + table.encode(), str(int(pk)).encode()), 16)

    def head_mac(self, table: str, count: int, xor_hex: str) -> str:
        return self._mac(b"amparo-head/1|" + table.encode(), f"{int(count)}|{xor_hex}".encode())

    def row_macs(self, table: str, bodies: Iterable[bytes]) -> list[str]:
        """row_mac() of many rows given as their canonical bodies (bulk inserts: one HMAC state
        keyed once, copied per row)."""
        base = hmac.new(self._key, b"amparo-row/1|" + table.encode() + b"\n", hashlib.sha256)
        out = []
        for body in bodies:
            h = base.copy()
            h.update(body)
            out.append(h.hexdigest())
        return out

    def presence_xor(self, table: str, pks: Iterable[int]) -> str:
        """The XOR of presence() over many primary keys, as 64 hex digits (a head's presence_xor
        contribution), without making a 256-bit int per key."""
        import numpy as np

        base = hmac.new(self._key, b"amparo-presence/1|" + table.encode() + b"\n", hashlib.sha256)
        acc = np.zeros(32, np.uint8)
        chunk: list[bytes] = []
        for pk in pks:
            h = base.copy()
            h.update(str(int(pk)).encode())
            chunk.append(h.digest())
            if len(chunk) >= 65536:
                acc ^= np.bitwise_xor.reduce(np.frombuffer(b"".join(chunk), np.uint8).reshape(-1, 32), axis=0)
                chunk = []
        if chunk:
            acc ^= np.bitwise_xor.reduce(np.frombuffer(b"".join(chunk), np.uint8).reshape(-1, 32), axis=0)
        return bytes(acc).hex()

    def check_row(self, table: str, row: dict[str, Any]) -> bool:
        stored = row.get(MAC_COLUMN)
        return isinstance(stored, str) and hmac.compare_digest(stored, self.row_mac(table, row))


def xor_hex(acc_hex: str, token: int) -> str:
    return f"{int(acc_hex, 16) ^ token:064x}"


def load_or_create_key(keys_dir: Path, *, env: dict[str, str] | None = None) -> bytes:
    """$AMPARO_INTEGRITY_KEY (hex) if set, else keys_dir/integrity.key, created with O_EXCL at 0600."""
    environ = os.environ if env is None else env
    value = environ.get(KEY_ENV, "").strip()
    if value:
        return _parse(value, KEY_ENV)
    path = keys_dir / KEY_FILE
    if not path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: read theirs
        else:
            with os.fdopen(fd, "w") as f:
                f.write(os.urandom(32).hex() + "\n")
                f.flush()
                os.fsync(f.fileno())
    try:
        return _parse(path.read_text("ascii").strip(), str(path))
    except OSError as e:
        raise ConfigurationError(f"cannot read the integrity key {path}: {e}") from e


def _parse(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ConfigurationError(f"{where}: the integrity key must be hex") from None
    if len(key) < 32:
        raise ConfigurationError(f"{where}: the integrity key must be at least 32 bytes (64 hex)")
    return key
