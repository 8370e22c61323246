"""The Ed25519 key that signs audit records and checkpoints.

The private key is a PKCS#8 PEM file in Settings.keys_dir, created on first use with mode
0600 (O_EXCL, so two starting processes cannot both create one). The public key is written
beside it so that verifiers need no secret.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from amparo.errors import ConfigurationError

PRIVATE_KEY_FILE = "audit_ed25519.pem"
PUBLIC_KEY_FILE = "audit_ed25519.pub"  # hex of the raw 32-byte public key
EXTRA_PUBLIC_KEYS_GLOB = "audit_ed25519.*.pub"  # earlier keys kept after a rotation


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_hex(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


class AuditSigner:
    def __init__(self, private: Ed25519PrivateKey, *, created: bool = False) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id_of(self.public)
        self.created = created  # True when this process made the key (recorded in the trail)

    @staticmethod
    def load_or_create(keys_dir: Path) -> AuditSigner:
        keys_dir.mkdir(parents=True, exist_ok=True)
        path = keys_dir / PRIVATE_KEY_FILE
        created = False
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process won the race: read theirs
            else:
                with os.fdopen(fd, "wb") as f:
                    f.write(pem)
                    f.flush()
                    os.fsync(f.fileno())
                created = True
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, OSError) as e:
            raise ConfigurationError(f"cannot read the audit signing key {path}: {e}") from e
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ConfigurationError(f"{path} is not an Ed25519 private key")
        signer = AuditSigner(loaded, created=created)
        pub_path = keys_dir / PUBLIC_KEY_FILE
        if not pub_path.exists() or pub_path.read_text().strip() != public_hex(signer.public):
            pub_path.write_text(public_hex(signer.public) + "\n")
        return signer

    def sign(self, message: bytes) -> str:
        return self._private.sign(message).hex()


def trusted_public_keys(keys_dir: Path) -> dict[str, Ed25519PublicKey]:
    """key id → public key, for every audit key this installation has used."""
    keys: dict[str, Ed25519PublicKey] = {}
    paths = [keys_dir / PUBLIC_KEY_FILE, *sorted(keys_dir.glob(EXTRA_PUBLIC_KEYS_GLOB))]
    for p in paths:
        if p.exists():
            try:
                pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(p.read_text().strip()))
            except ValueError as e:
                raise ConfigurationError(f"bad audit public key file {p}: {e}") from e
            keys[key_id_of(pub)] = pub
    return keys


def verify_signature(public: Ed25519PublicKey, signature_hex: str, message: bytes) -> bool:
    try:
        public.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
