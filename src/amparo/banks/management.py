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
from amparo.banks.formats import ParseCounts, export_entries, iter_entries
from amparo.errors import BadInput
from amparo.store import banks_repo, bulk_entries_repo
from amparo.store.banks_repo import NewEntry
from amparo.store.bulk_entries_repo import BulkResult
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


def add_entries(
    s: Session, who: Acting, *, bank: str, entries: list[NewEntry], via: str = "hashes"
) -> list[int]:
    """Add entries one transaction, one audit record; large batches go through bulk_add."""
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
    return import_lines(
        db, pipeline, who, bank=bank, lines=text.splitlines(), fmt=fmt, signal_type=signal_type, opinion=opinion
    )


def import_lines(
    db: Database,
    pipeline: Pipeline,
    who: Acting,
    *,
    bank: str,
    lines: Iterable[str],
    fmt: str,
    signal_type: str | None = None,
    opinion: str = "positive",
) -> dict[str, int]:
    """Import a file given as a stream of lines (an open file works): parsed, validated and
    bulk-inserted chunk by chunk in ONE transaction (a bad line anywhere rejects the whole file),
    with one audit record carrying the counts. Returns imported (entries in the file), unique,
    inserted, updated, unchanged, skipped_blank."""
    counts = ParseCounts()
    entries = iter_entries(
        lines, fmt=fmt, registry=pipeline.signals, signal_type=signal_type, opinion=opinion, counts=counts
    )
    with db.session() as s:
        r = bulk_add(s, who, bank=bank, entries=entries, audit_action=names.BANK_IMPORT,
                     details={"format": fmt, "opinion": opinion}, skipped=counts)  # fmt: skip
    return {
        "imported": r.received,
        "unique": r.inserted + r.preexisting,
        "inserted": r.inserted,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "skipped_blank": counts.skipped_blank,
    }


def bulk_add(
    s: Session,
    who: Acting,
    *,
    bank: str,
    entries: Iterable[NewEntry],
    audit_action: str = names.BANK_ENTRY_ADD,
    details: dict[str, Any] | None = None,
    skipped: ParseCounts | None = None,
) -> BulkResult:
    """The bulk path for imports and exchange syncs: stream `entries` (values normalised, e.g.
    from formats.iter_entries) into `bank` in the caller's transaction `s` through
    store.bulk_entries_repo (COPY on PostgreSQL, sealed rows, one index feed marker), and write
    ONE audit record `audit_action` with the counts and `details`. An empty stream is BadInput
    (empty_import) and writes nothing."""
    b = banks_repo.get_bank(s, name=bank)
    r = bulk_entries_repo.bulk_add_entries(s, bank_id=b.id, entries=entries)
    if not r.received:
        raise BadInput("no entries in the file", code="empty_import")
    record = {
        "imported": r.received,
        "unique": r.inserted + r.preexisting,
        "inserted": r.inserted,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "signal_types": r.signal_types,
        "first_id": r.first_id,
        "last_id": r.last_id,
        **(details or {}),
    }
    if skipped is not None:
        record["skipped_blank"] = skipped.skipped_blank
    who.record(s, audit_action, bank, record)
    return r


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
