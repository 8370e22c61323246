"""Bank and entry repository. Hamming-searchable entries also write the index change feed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from amparo.errors import BadInput, Conflict, NotFound
from amparo.store.tables import BankEntryRow, BankRow, IndexChangeRow
from amparo.store.tables_exchanges import BankChangeRow

CATEGORIES = ("csam", "ncii", "other")
OPINIONS = ("positive", "negative", "disputed")
HAMMING_TYPES = frozenset({"pdq"})
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")


@dataclass(frozen=True)
class NewEntry:
    signal_type: str
    value: str
    opinion: str = "positive"
    note: str | None = None
    external_id: str | None = None
    metadata: dict[str, Any] | None = None
    # PDQ only: "reference" when hashed here from the full decode, else "imported" (see tables.py)
    pdq_origin: str | None = None


def _check_name(name: str) -> None:
    if not _NAME.match(name or ""):
        raise BadInput(f"bad bank name {name!r}: use letters, digits, _ . - (at most 100)", code="bad_bank_name")


def _check_category(category: str) -> None:
    if category not in CATEGORIES:
        raise BadInput(f"bad category {category!r}: one of {', '.join(CATEGORIES)}", code="bad_category")


def _check_opinion(opinion: str) -> None:
    if opinion not in OPINIONS:
        raise BadInput(f"bad opinion {opinion!r}: one of {', '.join(OPINIONS)}", code="bad_opinion")


def _check_threshold(t: int) -> None:
    if not 0 <= int(t) <= 128:
        raise BadInput(f"bad PDQ threshold {t}: 0..128", code="bad_threshold")


_generation = [0]


def banks_generation() -> int:
    """Bumped by every bank create, update and delete in this process: caches of bank settings
    (the matcher's thresholds) refresh at once after a change made here, within seconds otherwise."""
    return _generation[0]


def create_bank(
    session: Session,
    *,
    name: str,
    category: str,
    source: str = "local",
    description: str = "",
    pdq_threshold: int = 31,
    negative: bool = False,
    enabled: bool = True,
    enabled_ratio: float | None = None,
) -> BankRow:
    _check_name(name)
    _check_category(category)
    _check_threshold(pdq_threshold)
    if session.scalar(select(BankRow.id).where(BankRow.name == name)) is not None:
        raise Conflict(f"bank {name!r} already exists")
    row = BankRow(
        name=name,
        category=category,
        source=source,
        description=description,
        pdq_threshold=int(pdq_threshold),
        negative=negative,
        enabled=enabled,
    )
    if enabled_ratio is not None:
        _set_ratio(row, enabled_ratio)
    session.add(row)
    _generation[0] += 1
    session.flush()
    return row


def _set_ratio(row: BankRow, ratio: float) -> None:
    if not 0.0 <= ratio <= 1.0:
        raise BadInput(f"bad enabled_ratio {ratio}: 0..1", code="bad_ratio")
    row.enabled_ratio = float(ratio)
    row.enabled = ratio > 0


def list_banks(session: Session) -> list[BankRow]:
    return list(session.scalars(select(BankRow).order_by(BankRow.name)))


def get_bank(session: Session, *, name: str) -> BankRow:
    row = session.scalar(select(BankRow).where(BankRow.name == name))
    if row is None:
        raise NotFound(f"no bank named {name!r}")
    return row


def get_bank_by_id(session: Session, *, bank_id: int) -> BankRow:
    row = session.get(BankRow, bank_id)
    if row is None:
        raise NotFound(f"no bank with id {bank_id}")
    return row


def update_bank(
    session: Session,
    *,
    name: str,
    new_name: str | None = None,
    enabled: bool | None = None,
    pdq_threshold: int | None = None,
    negative: bool | None = None,
    description: str | None = None,
    category: str | None = None,
    enabled_ratio: float | None = None,
) -> BankRow:
    row = get_bank(session, name=name)
    if new_name is not None and new_name != name:
        _check_name(new_name)
        if session.scalar(select(BankRow.id).where(BankRow.name == new_name)) is not None:
            raise Conflict(f"bank {new_name!r} already exists")
        row.name = new_name
    if enabled is not None:
        row.enabled = enabled
        row.enabled_ratio = None  # the flag alone decides again
    if enabled_ratio is not None:
        _set_ratio(row, enabled_ratio)
    if pdq_threshold is not None:
        _check_threshold(pdq_threshold)
        row.pdq_threshold = int(pdq_threshold)
    if negative is not None:
        row.negative = negative
    if description is not None:
        row.description = description
    if category is not None:
        _check_category(category)
        row.category = category
    _generation[0] += 1
    session.flush()
    return row


def delete_bank(session: Session, *, name: str) -> int:
    row = get_bank(session, name=name)
    from amparo.store.video_repo import remove_bank_videos  # video frames leave the index too

    remove_bank_videos(session, bank_id=row.id)
    ids = list(
        session.execute(
            select(BankEntryRow.id, BankEntryRow.signal_type, BankEntryRow.value, BankEntryRow.bank_id).where(
                BankEntryRow.bank_id == row.id
            )
        )
    )
    _record_removals(session, [tuple(r) for r in ids])
    session.execute(delete(BankEntryRow).where(BankEntryRow.bank_id == row.id))
    session.delete(row)
    _generation[0] += 1
    session.flush()
    return len(ids)


def count_entries(session: Session, *, bank_id: int) -> int:
    return int(
        session.scalar(select(func.count()).select_from(BankEntryRow).where(BankEntryRow.bank_id == bank_id)) or 0
    )


def signal_type_stats(session: Session, *, signal_type: str) -> tuple[int, int]:
    """(entries of this signal type in every bank, unix time of the newest or -1)."""
    n, newest = session.execute(
        select(func.count(), func.max(BankEntryRow.created_at)).where(BankEntryRow.signal_type == signal_type)
    ).one()
    if newest is None:
        return int(n or 0), -1
    if newest.tzinfo is None:  # SQLite keeps no zone; Amparo stores UTC
        newest = newest.replace(tzinfo=UTC)
    return int(n or 0), int(newest.timestamp())


def add_entries(session: Session, *, bank_id: int, entries: Sequence[NewEntry]) -> list[int]:
    """Insert entries (values already normalised). An existing (bank, type, value) is updated, not
    duplicated. Returns the entry ids in input order."""
    for e in entries:
        _check_opinion(e.opinion)
    ids: list[int] = []
    existing: dict[tuple[str, str], BankEntryRow] = {}
    by_type: dict[str, list[str]] = {}
    for e in entries:
        by_type.setdefault(e.signal_type, []).append(e.value)
    for stype, values in by_type.items():
        for chunk_start in range(0, len(values), 500):
            chunk = values[chunk_start : chunk_start + 500]
            for row in session.scalars(
                select(BankEntryRow).where(
                    BankEntryRow.bank_id == bank_id, BankEntryRow.signal_type == stype, BankEntryRow.value.in_(chunk)
                )
            ):
                existing[(row.signal_type, row.value)] = row
    new_rows: list[BankEntryRow] = []
    order: list[BankEntryRow] = []
    for e in entries:
        found = existing.get((e.signal_type, e.value))
        if found is not None:
            row = found
            row.opinion = e.opinion
            if e.note is not None:
                row.note = e.note
            if e.metadata:
                row.entry_metadata = {**(row.entry_metadata or {}), **e.metadata}
        else:
            row = BankEntryRow(
                bank_id=bank_id,
                signal_type=e.signal_type,
                value=e.value,
                opinion=e.opinion,
                note=e.note,
                external_id=e.external_id,
                entry_metadata=e.metadata or {},
                pdq_origin=(e.pdq_origin or "imported") if e.signal_type == "pdq" else None,
            )
            new_rows.append(row)
            existing[(e.signal_type, e.value)] = row
        order.append(row)
    session.add_all(new_rows)
    session.flush()
    session.add_all(
        [
            IndexChangeRow(signal_type=r.signal_type, entry_id=r.id, op="add", value=r.value)
            for r in new_rows
            if r.signal_type in HAMMING_TYPES
        ]
    )
    session.flush()
    # The bank change feed (partners pull it): new entries and upserts of existing ones. A plain
    # executemany (the feed is not MAC-sealed; partners verify the signed pages built from it).
    feed = [
        {"bank_id": bank_id, "entry_id": r.id, "op": "add", "signal_type": r.signal_type, "value": r.value,
         "opinion": r.opinion}
        for r in order
        if r.enabled
    ]  # fmt: skip
    if feed:
        session.execute(insert(BankChangeRow), feed)
    ids = [r.id for r in order]
    return ids


def add_entry(
    session: Session,
    *,
    bank_id: int,
    signal_type: str,
    value: str,
    opinion: str = "positive",
    note: str | None = None,
    metadata: dict[str, Any] | None = None,
    external_id: str | None = None,
) -> int:
    return add_entries(
        session, bank_id=bank_id, entries=[NewEntry(signal_type, value, opinion, note, external_id, metadata)]
    )[0]


def get_entry(session: Session, *, entry_id: int) -> BankEntryRow:
    row = session.get(BankEntryRow, entry_id)
    if row is None:
        raise NotFound(f"no bank entry with id {entry_id}")
    return row


def get_entry_in_bank(session: Session, *, bank: str, entry_id: int) -> BankEntryRow:
    """The entry, only if it belongs to the named bank (404 otherwise: ids are not guessable across banks)."""
    b = get_bank(session, name=bank)
    row = session.get(BankEntryRow, entry_id)
    if row is None or row.bank_id != b.id:
        raise NotFound(f"no entry {entry_id} in bank {bank!r}")
    return row


def update_entry(
    session: Session,
    *,
    entry_id: int,
    opinion: str | None = None,
    enabled: bool | None = None,
    note: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> BankEntryRow:
    """`metadata` keys are merged into the entry's metadata (a None value removes that key)."""
    row = get_entry(session, entry_id=entry_id)
    was = (row.opinion, bool(row.enabled))
    if opinion is not None:
        _check_opinion(opinion)
        row.opinion = opinion
    if enabled is not None:
        row.enabled = enabled
    if (row.opinion, bool(row.enabled)) != was:  # the feed follows what partners should match
        session.add(
            BankChangeRow(
                bank_id=row.bank_id,
                entry_id=row.id,
                op="add" if row.enabled else "remove",
                signal_type=row.signal_type,
                value=row.value,
                opinion=row.opinion,
            )
        )
    if note is not None:
        row.note = note
    if metadata:
        merged = {**(row.entry_metadata or {}), **metadata}
        row.entry_metadata = {k: v for k, v in merged.items() if v is not None}
    session.flush()
    return row


def remove_entries(session: Session, *, entry_ids: Iterable[int]) -> int:
    ids = list(entry_ids)
    if not ids:
        return 0
    rows = list(
        session.execute(
            select(BankEntryRow.id, BankEntryRow.signal_type, BankEntryRow.value, BankEntryRow.bank_id).where(
                BankEntryRow.id.in_(ids)
            )
        )
    )
    _record_removals(session, [tuple(r) for r in rows])
    session.execute(delete(BankEntryRow).where(BankEntryRow.id.in_(ids)))
    session.flush()
    return len(rows)


def _record_removals(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """rows: (entry id, signal type, value, bank id). The index feed, and the bank change feed
    whose tombstones carry the value (a partner removes by value: its entry ids differ)."""
    session.add_all(
        [
            IndexChangeRow(signal_type=t, entry_id=i, op="remove", value=None)
            for i, t, _, _ in rows
            if t in HAMMING_TYPES
        ]
    )
    if rows:
        session.execute(
            insert(BankChangeRow),
            [{"bank_id": b, "entry_id": i, "op": "remove", "signal_type": t, "value": v} for i, t, v, b in rows],
        )


def list_entries(
    session: Session,
    *,
    bank_id: int,
    after_id: int = 0,
    limit: int = 1000,
    signal_type: str | None = None,
) -> list[BankEntryRow]:
    q = select(BankEntryRow).where(BankEntryRow.bank_id == bank_id, BankEntryRow.id > after_id)
    if signal_type:
        q = q.where(BankEntryRow.signal_type == signal_type)
    return list(session.scalars(q.order_by(BankEntryRow.id).limit(limit)))


@dataclass(frozen=True)
class EntryInfo:
    entry_id: int
    bank_id: int
    bank_name: str
    category: str
    negative_bank: bool
    bank_enabled: bool
    pdq_threshold: int
    opinion: str
    enabled: bool
    signal_type: str
    value: str
    bank_source: str = ""


def _info_query():  # type: ignore[no-untyped-def]
    return select(
        BankEntryRow.id,
        BankRow.id,
        BankRow.name,
        BankRow.category,
        BankRow.negative,
        BankRow.enabled,
        BankRow.pdq_threshold,
        BankEntryRow.opinion,
        BankEntryRow.enabled,
        BankEntryRow.signal_type,
        BankEntryRow.value,
        BankRow.source,
    ).join(BankRow, BankRow.id == BankEntryRow.bank_id)


def entries_info(session: Session, *, entry_ids: Iterable[int]) -> list[EntryInfo]:
    ids = list(entry_ids)
    if not ids:
        return []
    return [EntryInfo(*r) for r in session.execute(_info_query().where(BankEntryRow.id.in_(ids)))]


def lookup_exact(session: Session, *, signal_type: str, value: str) -> list[EntryInfo]:
    return [
        EntryInfo(*r)
        for r in session.execute(
            _info_query().where(BankEntryRow.signal_type == signal_type, BankEntryRow.value == value)
        )
    ]


def index_changes_after(session: Session, *, signal_type: str, seq: int, limit: int = 200_000) -> list[Any]:
    """Rows with .seq, .entry_id, .op, .value: plain rows, not ORM objects (several times cheaper to
    load when a refresh applies hundreds of thousands)."""
    return list(
        session.execute(
            select(IndexChangeRow.seq, IndexChangeRow.entry_id, IndexChangeRow.op, IndexChangeRow.value)
            .where(IndexChangeRow.signal_type == signal_type, IndexChangeRow.seq > seq)
            .order_by(IndexChangeRow.seq)
            .limit(limit)
        )
    )


def latest_index_seq(session: Session, *, signal_type: str) -> int:
    return int(
        session.scalar(select(func.max(IndexChangeRow.seq)).where(IndexChangeRow.signal_type == signal_type)) or 0
    )


def disable_bank_entries(session: Session, *, bank_id: int) -> None:
    session.execute(update(BankEntryRow).where(BankEntryRow.bank_id == bank_id).values(enabled=False))


def exact_entries_after(session: Session, *, after_id: int, types: Sequence[str], limit: int) -> list[Any]:
    """(id, signal_type, value) of entries of exact-hash types with id > after_id, in id order:
    the in-memory exact index follows new entries with this (matching/exact_index.py)."""
    return list(
        session.execute(
            select(BankEntryRow.id, BankEntryRow.signal_type, BankEntryRow.value)
            .where(BankEntryRow.id > after_id, BankEntryRow.signal_type.in_(list(types)))
            .order_by(BankEntryRow.id)
            .limit(limit)
        )
    )
