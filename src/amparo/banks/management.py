"""Bank operations used by the API, CLI and cases: hashing files into entries, imports, exports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from amparo.banks.formats import export_entries, parse_entries
from amparo.errors import BadInput
from amparo.pipeline import Pipeline
from amparo.store import banks_repo
from amparo.store.banks_repo import NewEntry
from amparo.store.database import Database


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
    return {"imported": len(ids), "unique": len(set(ids)), "skipped_blank": parsed.skipped_blank}


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
