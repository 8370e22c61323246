"""Tamper-evident audit trail (hash chain + Ed25519 signatures + exportable checkpoints).

The trail loads on first use, so that `from amparo.audit import names` stays light (no SQLAlchemy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amparo.audit.trail import AuditTrail, VerifyResult, verify_chain

__all__ = ["AuditTrail", "VerifyResult", "verify_chain"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from amparo.audit import trail

        return getattr(trail, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
