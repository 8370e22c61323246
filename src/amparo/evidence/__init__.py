"""Encrypted evidence vault: capture with hashes, retention, legal holds, tombstones, export."""

from amparo.evidence.vault import EvidenceIntegrityError, Hashes, Vault, hash_at_capture

__all__ = ["EvidenceIntegrityError", "Hashes", "Vault", "hash_at_capture"]
