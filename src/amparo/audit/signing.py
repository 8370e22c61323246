"""The Ed25519 key that signs audit records and checkpoints.

The private key is a PKCS#8 PEM file in Settings.keys_dir, created on first use with mode
0600 (O_EXCL, so two starting processes cannot both create one). The public key is written
beside it for people; verification never trusts a public key file (see audit/keyring.py).
"""

from __future__ import annotations

import contextlib
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
RETIRED_PUBLIC_KEY = "audit_ed25519.{key_id}.pub"  # earlier keys, kept for people after a rotation


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

    @staticmethod
    def generate() -> AuditSigner:
        return AuditSigner(Ed25519PrivateKey.generate(), created=True)

    def install(self, keys_dir: Path) -> None:
        """Make this the key in keys_dir (atomic replace; the old public key is kept, named by id)."""
        keys_dir.mkdir(parents=True, exist_ok=True)
        pub_path = keys_dir / PUBLIC_KEY_FILE
        if pub_path.exists():
            old = pub_path.read_text().strip()
            with contextlib.suppress(ValueError):
                old_id = key_id_of(Ed25519PublicKey.from_public_bytes(bytes.fromhex(old)))
                (keys_dir / RETIRED_PUBLIC_KEY.format(key_id=old_id)).write_text(old + "\n")
        pem = self._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = keys_dir / (PRIVATE_KEY_FILE + ".new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, keys_dir / PRIVATE_KEY_FILE)
        pub_path.write_text(public_hex(self.public) + "\n")

    def sign(self, message: bytes) -> str:
        return self._private.sign(message).hex()


def public_key_from_hex(value: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(value.strip()))
    except ValueError as e:
        raise ConfigurationError(f"bad Ed25519 public key {value[:80]!r}: {e}") from e


def verify_signature(public: Ed25519PublicKey, signature_hex: str, message: bytes) -> bool:
    try:
        public.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
