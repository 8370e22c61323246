"""The vault's master key: from a file or the environment, never from the database.

The database keeps only a key check value (an HMAC of a constant under the key), so a start
with a wrong key is refused before anything is decrypted, and the key itself cannot be
recovered from what is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from amparo.errors import ConfigurationError
from amparo.settings import Settings

DEV_KEY_FILE = "vault_master.key"  # created in keys_dir only in the dev environment
KEY_BYTES = 32


@dataclass(frozen=True)
class MasterKey:
    key: bytes
    source: str  # "file:<path>" | "env" | "dev-file:<path>"

    @property
    def key_id(self) -> str:
        return hmac.new(self.key, b"amparo-vault-key-check/1", hashlib.sha256).hexdigest()[:32]

    def __repr__(self) -> str:  # never print the key
        return f"MasterKey(key_id={self.key_id}, source={self.source})"


def parse_key(raw: bytes, *, where: str) -> bytes:
    text = raw.strip()
    if len(raw) == KEY_BYTES and len(text) != 2 * KEY_BYTES:
        return raw  # 32 raw bytes
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ConfigurationError(
            f"the vault master key in {where} is not 64 hex characters or 32 raw bytes"
        ) from e
    if len(key) != KEY_BYTES:
        raise ConfigurationError(
            f"the vault master key in {where} has {len(key)} bytes; AES-256 needs {KEY_BYTES}"
        )
    return key


def load_master_key(settings: Settings, *, allow_dev_key: bool) -> MasterKey:
    """Settings.master_key_file, else Settings.master_key (hex), else — only in dev, and only
    when the vault is new (`allow_dev_key`) — a generated key file in keys_dir."""
    if settings.master_key_file is not None:
        path = Path(settings.master_key_file)
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise ConfigurationError(
                f"the vault master key file {path} cannot be read ({e.strerror}); "
                "the evidence vault refuses to start"
            ) from e
        return MasterKey(parse_key(raw, where=str(path)), f"file:{path}")
    if settings.master_key:
        return MasterKey(parse_key(settings.master_key.encode(), where="AMPARO_MASTER_KEY"), "env")
    dev_path = settings.keys_dir / DEV_KEY_FILE
    if settings.environment == "dev" and (dev_path.exists() or allow_dev_key):
        if not dev_path.exists():
            dev_path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(dev_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_hex(KEY_BYTES) + "\n")
        return MasterKey(
            parse_key(dev_path.read_bytes(), where=str(dev_path)), f"dev-file:{dev_path}"
        )
    raise ConfigurationError(
        "no vault master key: set AMPARO_MASTER_KEY_FILE (a file holding 64 hex characters) "
        "or AMPARO_MASTER_KEY; the evidence vault refuses to start without it"
    )
