"""Limits of the /protect page, from AMPARO_PROTECT_* environment variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ProtectSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AMPARO_PROTECT_", extra="ignore")

    enabled: bool = True
    # Proof of work: leading zero bits of SHA-256(challenge ":" counter). 18 bits ≈ 260,000 hashes,
    # about half a second in the page's worker on a phone-class CPU.
    pow_bits: int = 18
    challenge_ttl_seconds: int = 900
    # Per client address (counted in the database, shared by every replica).
    submissions_per_window: int = 10
    submission_window_seconds: int = 3600
    lookups_per_window: int = 30  # status and withdrawal attempts (case number + secret)
    lookup_window_seconds: int = 600
    challenges_per_window: int = 60
    challenge_window_seconds: int = 600
    max_files: int = 20  # per submission; each file gives at most one PDQ and one MD5
    max_body_bytes: int = 8192  # every /protect/api request: a few hashes in JSON, never a file
    pdq_threshold: int = 31  # of the self-submitted banks created on first use
