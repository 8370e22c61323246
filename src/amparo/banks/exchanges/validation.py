"""Every fetched record is checked before it reaches a bank: operation, signal type, hash length
and alphabet (python-threatexchange issue #1609: one corrupt PDQ broke HMA's index builds).
A bad record becomes a `Rejected` the engine logs, counts and skips."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amparo.banks.exchanges.base import OPS, Record
from amparo.errors import BadInput
from amparo.signals.registry import SignalRegistry
from amparo.store.banks_repo import OPINIONS

SAMPLE_CHARS = 200


@dataclass(frozen=True)
class Rejected:
    reason: str
    record: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "record": self.record}


def sample(raw: Any) -> dict[str, Any]:
    """A short, printable picture of a bad record (never the whole payload)."""
    if isinstance(raw, Record):
        raw = {"op": raw.op, "signal_type": raw.signal_type, "value": raw.value, "external_id": raw.external_id}
    if isinstance(raw, dict):
        return {str(k)[:40]: str(v)[:SAMPLE_CHARS] for k, v in list(raw.items())[:8]}
    return {"raw": repr(raw)[:SAMPLE_CHARS]}


def validate(record: Record, registry: SignalRegistry) -> Record | Rejected:
    """The record with its value normalised, or why it is refused."""
    if record.unsupported:
        return Rejected(f"unsupported signal type {record.signal_type[:40]!r}", sample(record))
    if record.op not in OPS:
        return Rejected(f"bad op {record.op[:20]!r}", sample(record))
    if record.opinion not in OPINIONS:
        return Rejected(f"bad opinion {str(record.opinion)[:20]!r}", sample(record))
    if record.op == "remove" and not record.value and record.external_id:
        return record  # a tombstone by the partner's id (NCMEC deleted entries carry no hashes)
    if not isinstance(record.value, str) or not isinstance(record.signal_type, str):
        return Rejected("signal type and value must be strings", sample(record))
    try:
        hasher = registry.get(record.signal_type)
    except (BadInput, KeyError):
        return Rejected(f"unknown signal type {record.signal_type[:40]!r}", sample(record))
    try:
        value = hasher.normalise(record.value)
    except BadInput as e:
        return Rejected(e.message[:200], sample(record))
    if value == record.value and hasher.name == record.signal_type:
        return record
    return Record(
        record.op, hasher.name, value, record.opinion, record.external_id, record.metadata, record.unsupported
    )
