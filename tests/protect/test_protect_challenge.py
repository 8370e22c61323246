"""The proof of work (protect/challenge.py) and the case codes, without a server."""

from __future__ import annotations

import hashlib

import pytest

from amparo.protect import challenge
from amparo.protect.submissions import canonical

KEY = b"k" * 32


def test_a_solved_challenge_verifies_once_per_nonce_and_only_here() -> None:
    c = challenge.issue(KEY, bits=8, ttl_seconds=60, now=1000)
    n = challenge.solve(c.token, 8)
    assert challenge.leading_zero_bits(hashlib.sha256(f"{c.token}:{n}".encode()).digest()) >= 8
    solved = challenge.verify(KEY, c.token, n, min_bits=8, ttl_seconds=60, now=1030)
    assert solved.bits == 8 and len(solved.nonce) == 32
    cases = [
        (b"x" * 32, c.token, n, 8, 1030),  # another key: not issued here
        (KEY, c.token, n, 8, 1061),  # expired
        (KEY, c.token, n, 8, 900),  # issued in the future
        (KEY, c.token, n, 9, 1030),  # easier than the server asks now
        (KEY, c.token.replace(".8.", ".4."), n, 4, 1030),  # bits edited: the MAC breaks
        (KEY, "1.2.3", 0, 8, 1030),  # malformed
    ]
    for key, token, counter, bits, now in cases:
        with pytest.raises(challenge.PowFailed):
            challenge.verify(key, token, counter, min_bits=bits, ttl_seconds=60, now=now)
    wrong = next(
        i for i in range(1000) if challenge.leading_zero_bits(hashlib.sha256(f"{c.token}:{i}".encode()).digest()) < 8
    )
    with pytest.raises(challenge.PowFailed):
        challenge.verify(KEY, c.token, wrong, min_bits=8, ttl_seconds=60, now=1030)


def test_leading_zero_bits() -> None:
    assert challenge.leading_zero_bits(b"\x00\x00\x80") == 16
    assert challenge.leading_zero_bits(b"\x00\x01") == 15
    assert challenge.leading_zero_bits(b"\xff") == 0
    assert challenge.leading_zero_bits(b"\x00" * 4) == 32


def test_codes_are_read_loosely() -> None:
    assert canonical("p-ab0c 1234") == canonical("P-AB0C-1234") == "PAB0C1234"
    assert canonical("o0-Il1") == "00111"
    assert canonical("x" * 200) == "X" * 64
