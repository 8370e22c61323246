"""AES-256-GCM sealing: a fresh data key per item, wrapped by the master key.

Every ciphertext is bound to its item's ref through the associated data, so a file or a
wrapped key moved onto another item fails authentication instead of decrypting.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FILE_MAGIC = b"AMPV1\n"
NONCE_BYTES = 12
WRAP_AAD = b"amparo-vault-wrap/1:"
FILE_AAD = b"amparo-vault-file/1:"
META_AAD = b"amparo-vault-meta/1:"


class SealBroken(Exception):
    """Authentication failed: wrong key or altered bytes."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < NONCE_BYTES + 16:
        raise SealBroken("ciphertext too short")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except InvalidTag as e:
        raise SealBroken("authentication failed") from e


def wrap_key(master: bytes, data_key: bytes, ref: str) -> bytes:
    return seal(master, data_key, WRAP_AAD + ref.encode())


def unwrap_key(master: bytes, wrapped: bytes, ref: str) -> bytes:
    return unseal(master, wrapped, WRAP_AAD + ref.encode())


def seal_file(data_key: bytes, content: bytes, ref: str) -> bytes:
    return FILE_MAGIC + seal(data_key, content, FILE_AAD + ref.encode())


def unseal_file(data_key: bytes, blob: bytes, ref: str) -> bytes:
    if not blob.startswith(FILE_MAGIC):
        raise SealBroken("not a vault file (bad header)")
    return unseal(data_key, blob[len(FILE_MAGIC) :], FILE_AAD + ref.encode())
