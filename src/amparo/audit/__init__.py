"""Tamper-evident audit trail (hash chain + Ed25519 signatures + exportable checkpoints)."""

from amparo.audit.trail import AuditTrail, VerifyResult, verify_chain

__all__ = ["AuditTrail", "VerifyResult", "verify_chain"]
