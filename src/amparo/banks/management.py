"""Bank operations shared by every interface (CLI, native API, HMA routes, cases): hashing files
into entries, imports, exports, and every change of a bank or its entries.

Each change is one audit record, written in the transaction of the change, naming who did it
(`Acting`): a bank is what decides which known material is blocked or whitelisted, so it is a
privileged act whatever the interface (issue 14, finding 8)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from amparo.audit import names
from amparo.banks.formats import export_entries, parse_entries
from amparo.errors import BadInput
from amparo.store import banks_repo
from amparo.store.banks_repo import NewEntry
from amparo.store.database import Database
from amparo.store.tables import BankEntryRow, BankRow

if TYPE_CHECKING:  # the pipeline (and the index's numba) only for the verbs that hash
    from amparo.pipeline import Pipeline


@dataclass(frozen=True)
class Acting:
    """Who changes banks, and the trail their changes go to."""

    audit: Any  # AuditTrail (None only where no trail is configured)
    actor: str
    role: str

    def record(self, s: Session, action: str, bank: str, details: dict[str, Any]) -> None:
        if self.audit is not None:
            self.audit.record(
                s,
                action=action,
                subject_type="bank",
                subject_id=bank,
                actor=self.actor,
                actor_role=self.role,
                details=details,
            )


def api_acting(audit: Any, principal: Any) -> Acting:
    return Acting(audit, f"apikey:{principal.name}"[:100], str(principal.role))


def create_bank(s: Session, who: Acting, **fields: Any) -> BankRow:
    row = banks_repo.create_bank(s, **fields)
    who.record(
        s,
        names.BANK_CREATE,
        row.name,
        {
            "category": row.category,
            "negative": bool(row.negative),
            "enabled": bool(row.enabled),
            "pdq_threshold": row.pdq_threshold,
            "source": row.source,
        },
    )
    return row


def update_bank(s: Session, who: Acting, *, name: str, **changes: Any) -> BankRow:
    row = banks_repo.update_bank(s, name=name, **changes)
    who.record(s, names.BANK_UPDATE, name, {k: v for k, v in changes.items() if v is not None})
    return row


def delete_bank(s: Session, who: Acting, *, name: str) -> int:
    category = banks_repo.get_bank(s, name=name).category
    n = banks_repo.delete_bank(s, name=name)
    who.record(s, names.BANK_DELETE, name, {"entries_removed": n, "category": category})
    return n


def add_entries(s: Session, who: Acting, *, bank: str, entries: list[NewEntry], via: str = "hashes") -> list[int]:
    b = banks_repo.get_bank(s, name=bank)
    ids = banks_repo.add_entries(s, bank_id=b.id, entries=entries)
    who.record(
        s,
        names.BANK_ENTRY_ADD,
        bank,
        {
            "count": len(ids),
            "via": via,
            "signal_types": dict(Counter(e.signal_type for e in entries)),
            "opinions": sorted({e.opinion for e in entries}),
            "entry_ids": ids[:100],
        },
    )
    return ids


def update_entry(s: Session, who: Acting, *, bank: str, entry_id: int, **changes: Any) -> BankEntryRow:
    banks_repo.get_entry_in_bank(s, bank=bank, entry_id=entry_id)
    row = banks_repo.update_entry(s, entry_id=entry_id, **changes)
    who.record(s, names.BANK_ENTRY_UPDATE, bank, {"entry_id": entry_id, "changes": _plain(changes)})
    return row


def remove_entries(s: Session, who: Acting, *, bank: str, entry_ids: Iterable[int]) -> int:
    ids = list(entry_ids)
    for i in ids:
        banks_repo.get_entry_in_bank(s, bank=bank, entry_id=i)
    n = banks_repo.remove_entries(s, entry_ids=ids)
    who.record(s, names.BANK_ENTRY_REMOVE, bank, {"count": n, "entry_ids": ids[:100]})
    return n


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v) for k, v in d.items()}


def entries_from_image(
    pipeline: Pipeline,
    data: bytes,
    *,
    opinion: str = "positive",
    note: str | None = None,
    metadata: dict[str, Any] | None = None,
    quality_floor: int = 0,
) -> list[NewEntry]:
    """Hash an image into one entry per signal type (PDQ under the quality floor is left out)."""
    decoded = pipeline.decode(data)
    out = []
    for sig in pipeline.hash_of_record(decoded, data):
        if sig.type == "pdq" and sig.quality is not None and sig.quality < quality_floor:
            continue
        origin = "reference" if sig.type == "pdq" and sig.exact else None
        out.append(NewEntry(sig.type, sig.value, opinion, note, None, metadata, pdq_origin=origin))
    return out


def import_text(
    db: Database,
    pipeline: Pipeline,
    who: Acting,
    *,
    bank: str,
    text: str,
    fmt: str,
    signal_type: str | None = None,
    opinion: str = "positive",
) -> dict[str, int]:
    parsed = parse_entries(text, fmt=fmt, registry=pipeline.signals, signal_type=signal_type, opinion=opinion)
    if not parsed.entries:
        raise BadInput("no entries in the file", code="empty_import")
    with db.session() as s:
        b = banks_repo.get_bank(s, name=bank)
        ids = banks_repo.add_entries(s, bank_id=b.id, entries=parsed.entries)
        out = {"imported": len(ids), "unique": len(set(ids)), "skipped_blank": parsed.skipped_blank}
        who.record(s, names.BANK_IMPORT, bank, {**out, "format": fmt, "opinion": opinion})
    return out


def record_export(db: Database, who: Acting, *, bank: str, fmt: str) -> None:
    """An export is recorded before its first byte is sent (and 404s for an unknown bank)."""
    with db.session() as s:
        b = banks_repo.get_bank(s, name=bank)
        who.record(s, names.BANK_EXPORT, bank, {"format": fmt, "entries": banks_repo.count_entries(s, bank_id=b.id)})


def export_bank(db: Database, *, bank: str, fmt: str) -> Iterator[str]:
    with db.session() as s:
        b = banks_repo.get_bank(s, name=bank)
        bank_id = b.id
    after = 0
    first = True
    while True:
        with db.session() as s:
            rows = banks_repo.list_entries(s, bank_id=bank_id, after_id=after, limit=5000)
        if not rows and not first:
            return
        chunks = export_entries(rows, fmt=fmt)
        if not first and fmt == "csv":
            next(iter(chunks))  # the header only once
        yield from chunks
        if not rows:
            return
        first = False
        after = rows[-1].id
