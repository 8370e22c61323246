"""Canonical JSON and the record hash: the exact bytes that are chained and signed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

# Fields of a record covered by its hash, in this fixed set (order comes from sort_keys).
HASHED_FIELDS = (
    "seq",
    "created_at",
    "actor",
    "actor_role",
    "action",
    "subject_type",
    "subject_id",
    "details",
    "prev_hash",
)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same value always gives the same bytes."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def normalise_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """What the database will give back: a JSON round trip (tuples become lists, etc.)."""
    if not details:
        return {}
    try:
        out = json.loads(canonical_json(details))
    except (TypeError, ValueError) as e:
        raise ValueError(f"audit details must be plain JSON values: {e}") from e
    if not isinstance(out, dict):
        raise ValueError("audit details must be a JSON object")
    return out


def record_hash(fields: dict[str, Any]) -> str:
    body = {k: fields[k] for k in HASHED_FIELDS}
    return hashlib.sha256(b"amparo-audit-record/1\n" + canonical_json(body)).hexdigest()
