"""A hashcash-style proof of work, issued and checked here (no third-party service).

A challenge is `1.<issued unix seconds>.<bits>.<nonce>.<mac>`: the MAC (HMAC-SHA256 with a key
derived from the session secret) makes it unforgeable, the time makes it expire, and the nonce is
stored with the case it paid for, so that it is spent once. The browser finds a counter such that
SHA-256("<challenge>:<counter>") starts with `bits` zero bits; checking costs one hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from amparo.errors import BadInput

VERSION = "1"


@dataclass(frozen=True)
class Challenge:
    token: str
    bits: int
    expires_at: int


@dataclass(frozen=True)
class Solved:
    nonce: str
    bits: int


class PowFailed(BadInput):
    code = "proof_of_work_failed"
    status = 400


def issue(key: bytes, *, bits: int, ttl_seconds: int, now: float | None = None) -> Challenge:
    t = int(now if now is not None else time.time())
    body = f"{VERSION}.{t}.{bits}.{secrets.token_hex(16)}"
    return Challenge(token=f"{body}.{_mac(key, body)}", bits=bits, expires_at=t + ttl_seconds)


def verify(
    key: bytes, token: str, counter: int, *, min_bits: int, ttl_seconds: int, now: float | None = None
) -> Solved:
    """The challenge's nonce when `counter` solves a challenge issued here that is still valid."""
    parts = token.split(".") if isinstance(token, str) and len(token) <= 200 else []
    if len(parts) != 5 or parts[0] != VERSION:
        raise PowFailed("the proof-of-work challenge is malformed")
    body, mac = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(_mac(key, body), mac):
        raise PowFailed("the proof-of-work challenge was not issued here")
    try:
        issued, bits = int(parts[1]), int(parts[2])
    except ValueError:
        raise PowFailed("the proof-of-work challenge is malformed") from None
    t = int(now if now is not None else time.time())
    if t > issued + ttl_seconds or issued > t + 60:
        raise PowFailed("the proof-of-work challenge expired; the page asks for a new one")
    if bits < min_bits:
        raise PowFailed("the proof-of-work challenge is too easy")
    if not isinstance(counter, int) or isinstance(counter, bool) or not 0 <= counter < 2**53:
        raise PowFailed("the proof-of-work counter is malformed")
    digest = hashlib.sha256(f"{token}:{counter}".encode()).digest()
    if leading_zero_bits(digest) < bits:
        raise PowFailed("the proof of work does not solve the challenge")
    return Solved(nonce=parts[3], bits=bits)


def solve(token: str, bits: int) -> int:
    """The server-side solver (tests and the CLI); the page solves in its worker."""
    counter = 0
    while leading_zero_bits(hashlib.sha256(f"{token}:{counter}".encode()).digest()) < bits:
        counter += 1
    return counter


def leading_zero_bits(digest: bytes) -> int:
    n = 0
    for byte in digest:
        if byte == 0:
            n += 8
            continue
        return n + 8 - byte.bit_length()
    return n


def _mac(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]
