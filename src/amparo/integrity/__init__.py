"""Integrity of security-relevant rows outside the audit chain: per-row MACs and per-table heads."""
