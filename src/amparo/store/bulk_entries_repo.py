"""Bulk insertion of bank entries: millions of hashes in one transaction at database speed.

`bulk_add_entries(session, bank_id=..., entries=...)` is the path for imports and exchange syncs:

* entries are taken from any iterable (a parser's stream) in chunks, never all in memory;
* ids are allocated up front (PostgreSQL: the table's sequence; SQLite: past the largest id,
  under the write lock), so every row's MAC is computed before it is written and rows go in
  sealed (no read-back pass); the table head is adjusted once, at commit;
* PostgreSQL: COPY straight into `bank_entries`, chunk by chunk, each in a savepoint; once a
  chunk meets a (bank, type, value) the bank already holds, that chunk and the rest go through
  a temporary table and `INSERT ... SELECT ... ON CONFLICT DO NOTHING`. SQLite: executemany into
  a temporary table, then `INSERT OR IGNORE ... SELECT`. An existing (bank, type, value) is not
  duplicated: it is updated like `banks_repo.add_entries` updates it (opinion, note, merged
  metadata), and left alone when nothing would change;
* the index change feed gets ONE row for the whole import (op `bulk`, entry_id = the first new
  id, value = the last): processes following the feed load the PDQ hashes of that id range from
  `bank_entries` in one pass and add them to their index as one segment (matching/matcher.py),
  instead of replaying millions of per-entry rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

import numpy as np
from sqlalchemy import insert, literal, select
from sqlalchemy.orm import Session

from amparo.errors import AmparoError, BadInput
from amparo.integrity.mac import RowSealer, canonical_row
from amparo.store import banks_repo, integrity_repo
from amparo.store.banks_repo import HAMMING_TYPES, OPINIONS, NewEntry
from amparo.store.bulk_writers import TABLE, PgWriter, SqliteWriter, safe_text
from amparo.store.tables import BankEntryRow, IndexChangeRow, utcnow
from amparo.store.tables_exchanges import BankChangeRow

BULK_OP = "bulk"
CHUNK = 50_000


@dataclass
class BulkResult:
    received: int = 0  # entries read from the stream (duplicates included)
    inserted: int = 0  # new rows
    updated: int = 0  # existing rows whose opinion, note or metadata changed
    unchanged: int = 0  # existing rows left as they were
    preexisting: int = 0  # of updated + unchanged: rows the bank held before this import
    first_allocated: int = 0
    first_id: int | None = None  # id range of the new rows (the feed's bulk marker)
    last_id: int | None = None
    signal_types: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "preexisting": self.preexisting,
            "first_id": self.first_id,
            "last_id": self.last_id,
            "signal_types": dict(self.signal_types),
        }


def bulk_add_entries(
    session: Session, *, bank_id: int, entries: Iterable[NewEntry], chunk_size: int = CHUNK
) -> BulkResult:
    """Insert a stream of entries (values already normalised) into one bank, in the caller's
    transaction. See the module docstring; returns the counts.

    Two threads: a helper parses, merges and seals chunk k+1 (Python work) while this thread
    waits on the database writing chunk k (the driver releases the GIL), so the two costs
    overlap instead of adding up. Ids for the next chunk are allocated before the helper starts
    (one connection, used by this thread only); the unused tail of the last allocation is a gap."""
    dialect = session.get_bind().dialect.name
    writer: PgWriter | SqliteWriter = PgWriter(session) if dialect == "postgresql" else SqliteWriter(session)
    try:
        return _write(session, writer, bank_id, entries, chunk_size)
    finally:
        writer.restore()  # the connection's own settings back, whether the import failed or not


def _write(
    session: Session, writer: PgWriter | SqliteWriter, bank_id: int, entries: Iterable[NewEntry], chunk_size: int
) -> BulkResult:
    sealer = integrity_repo.session_sealer(session)
    created_at = utcnow()
    fmt = _RowFormat(session, sealer, bank_id, created_at)
    result = BulkResult()
    presence: list[np.ndarray] = []
    new_ids: list[np.ndarray] = []
    it = iter(entries)

    def prepare(ids: list[int]) -> _Prepared:
        chunk = _merge_duplicates(list(islice(it, len(ids))))
        items = list(chunk.entries.values())
        ids = ids[: len(items)]
        rows = fmt.rows(ids, items)
        xor = sealer.presence_xor(TABLE, ids) if sealer is not None and ids else None
        types: dict[str, int] = {}
        for e in items:
            types[e.signal_type] = types.get(e.signal_type, 0) + 1
        return _Prepared(chunk.received, ids, items, rows, writer.encode(rows), xor, types)

    size = min(chunk_size, 1000)  # chunks grow to chunk_size: a small import allocates little
    with ThreadPoolExecutor(1, thread_name_prefix="amparo-bulk") as helper:
        pending = helper.submit(prepare, writer.allocate(size))
        while True:
            ready = pending.result()  # a bad line raises here, in this thread
            if not ready.received:
                break
            size = min(chunk_size, 2 * size)
            pending = helper.submit(prepare, writer.allocate(size))
            result.received += ready.received
            result.first_allocated = result.first_allocated or ready.ids[0]
            inserted = writer.insert(ready.rows, ready.payload)
            if not fmt.checked and inserted:
                fmt.check_sealed(inserted[0])
            result.inserted += len(inserted)
            if len(inserted) == len(ready.ids):
                for t, n in ready.types.items():
                    result.signal_types[t] = result.signal_types.get(t, 0) + n
                xor = ready.xor
            else:
                inserted_set = set(inserted)
                for i, e in zip(ready.ids, ready.items, strict=True):
                    if i in inserted_set:
                        result.signal_types[e.signal_type] = result.signal_types.get(e.signal_type, 0) + 1
                xor = sealer.presence_xor(TABLE, inserted) if sealer is not None and inserted else None
                rest = [e for i, e in zip(ready.ids, ready.items, strict=True) if i not in inserted_set]
                _update_existing(session, bank_id, rest, result)
            if inserted:
                new_ids.append(np.asarray(inserted, np.int64))
                if xor is not None:
                    presence.append(np.frombuffer(bytes.fromhex(xor), np.uint8))
    if new_ids:
        all_ids = np.concatenate(new_ids)
        result.first_id, result.last_id = int(all_ids.min()), int(all_ids.max())
        if sealer is not None:
            acc = np.bitwise_xor.reduce(np.stack(presence), axis=0)
            integrity_repo.count_bulk_inserted(session, TABLE, count=int(all_ids.size), presence_xor=bytes(acc).hex())
        if any(t in HAMMING_TYPES for t in result.signal_types):
            session.add(
                IndexChangeRow(signal_type="pdq", entry_id=result.first_id, op=BULK_OP, value=str(result.last_id))
            )
        _feed_bank_changes(session, bank_id, result.first_id, result.last_id)
    writer.finish()
    session.flush()
    return result


def _feed_bank_changes(session: Session, bank_id: int, first_id: int, last_id: int) -> None:
    """The new rows into the bank change feed (what Amparo-to-Amparo partners pull), in one
    INSERT ... SELECT: an imported bank that is published reaches its partners like any add."""
    e = BankEntryRow
    src = (
        select(e.bank_id, e.id, literal("add"), e.signal_type, e.value, e.opinion)
        .where(e.bank_id == bank_id, e.id >= first_id, e.id <= last_id)
        .order_by(e.id)
    )
    cols = ["bank_id", "entry_id", "op", "signal_type", "value", "opinion"]
    session.execute(insert(BankChangeRow).from_select(cols, src))


# ---------------------------------------------------------------------------------- duplicates


@dataclass
class _Prepared:
    received: int
    ids: list[int]
    items: list[NewEntry]
    rows: list[tuple[Any, ...]]
    payload: Any  # the writer's encoding of rows
    xor: str | None  # presence XOR of every id in `ids` (right when all of them go in)
    types: dict[str, int]


@dataclass
class _Chunk:
    entries: dict[tuple[str, str], NewEntry]
    received: int


def _merge_duplicates(batch: list[NewEntry]) -> _Chunk:
    """One entry per (type, value) in a chunk; a later one updates an earlier one as an import
    updates an existing row (opinion replaced, note if given, metadata merged)."""
    out: dict[tuple[str, str], NewEntry] = {}
    for e in batch:
        if e.opinion not in OPINIONS:
            raise BadInput(f"bad opinion {e.opinion!r}: one of {', '.join(OPINIONS)}", code="bad_opinion")
        key = (e.signal_type, e.value)
        old = out.get(key)
        if old is not None:
            e = NewEntry(
                e.signal_type,
                e.value,
                e.opinion,
                e.note if e.note is not None else old.note,
                old.external_id if old.external_id is not None else e.external_id,
                {**(old.metadata or {}), **(e.metadata or {})} or None,
                old.pdq_origin or e.pdq_origin,
            )
        out[key] = e
    return _Chunk(out, len(batch))


def _update_existing(session: Session, bank_id: int, entries: list[NewEntry], result: BulkResult) -> None:
    """Entries whose (type, value) the bank already holds: the ones that change anything go
    through banks_repo.add_entries (ORM: updated and resealed); the rest are left alone."""
    changing: list[NewEntry] = []
    by_type: dict[str, list[NewEntry]] = {}
    for e in entries:
        by_type.setdefault(e.signal_type, []).append(e)
    for stype, group in by_type.items():
        current: dict[str, str] = {}
        for start in range(0, len(group), 500):
            values = [e.value for e in group[start : start + 500]]
            q = select(BankEntryRow.value, BankEntryRow.opinion, BankEntryRow.id).where(
                BankEntryRow.bank_id == bank_id, BankEntryRow.signal_type == stype, BankEntryRow.value.in_(values)
            )
            for v, o, i in session.execute(q):
                current[str(v)] = str(o)
                result.preexisting += int(i) < result.first_allocated
        for e in group:
            if current.get(e.value) == e.opinion and e.note is None and not e.metadata:
                result.unchanged += 1
            else:
                changing.append(e)
    if changing:
        banks_repo.add_entries(session, bank_id=bank_id, entries=changing)
        result.updated += len(changing)


# ---------------------------------------------------------------------------------- row values


class _RowFormat:
    """A new row's column values and MAC. The MAC covers the row as the database returns it
    (integrity/mac.py): every row of an import shares one created_at, read back once through
    the column's own type, and the body is built from a template checked against canonical_row."""

    def __init__(self, session: Session, sealer: RowSealer | None, bank_id: int, created_at: datetime) -> None:
        self.session = session
        self.sealer = sealer
        self.bank_id = bank_id
        self.created_at = created_at
        col_type = BankEntryRow.__table__.c.created_at.type
        self.stored_created_at = session.execute(select(literal(created_at, type_=col_type))).scalar_one()
        head = {"bank_id": bank_id, "created_at": self.stored_created_at, "enabled": True}
        self._prefix = canonical_row(head)[:-1].decode() + ","  # '{"bank_id":..,"created_at":..,"enabled":true,'
        self._plain = self._prefix + '"entry_metadata":{},"external_id":null,"id":'
        self.checked = sealer is None
        self._compared = 0

    def rows(self, ids: list[int], entries: list[NewEntry]) -> list[tuple[Any, ...]]:
        origins = [(e.pdq_origin or "imported") if e.signal_type == "pdq" else None for e in entries]
        macs: list[str | None] = [None] * len(ids)
        if self.sealer is not None:
            bodies = [self._body(i, e, o) for i, e, o in zip(ids, entries, origins, strict=True)]
            macs = list(self.sealer.row_macs(TABLE, bodies))
        return [
            (i, self.bank_id, e.signal_type, e.value, e.opinion, True, e.external_id, e.note, e.metadata or {},
             self.created_at, o, m)
            for i, e, o, m in zip(ids, entries, origins, macs, strict=True)
        ]  # fmt: skip

    def _body(self, entry_id: int, e: NewEntry, origin: str | None) -> bytes:
        meta = e.metadata or {}
        if self._compared >= 3 and not meta and e.note is None and e.external_id is None and safe_text(e.value):
            # the common row (a hash and an opinion): one f-string, no json.dumps
            return (
                f'{self._plain}{entry_id},"note":null,"opinion":{_json(e.opinion)},"pdq_origin":{_json(origin)},'
                f'"signal_type":{_json(e.signal_type)},"value":"{e.value}"}}'
            ).encode()
        text = (
            f'{self._prefix}"entry_metadata":{_json(meta)},"external_id":{_json(e.external_id)},"id":{entry_id},'
            f'"note":{_json(e.note)},"opinion":{_json(e.opinion)},"pdq_origin":{_json(origin)},'
            f'"signal_type":{_json(e.signal_type)},"value":{_json(e.value)}}}'
        )
        body = text.encode("utf-8")
        if self._compared < 3:  # the template must give canonical_row's bytes exactly
            full = {
                "id": entry_id, "bank_id": self.bank_id, "signal_type": e.signal_type, "value": e.value,
                "opinion": e.opinion, "enabled": True, "external_id": e.external_id, "note": e.note,
                "entry_metadata": meta, "created_at": self.stored_created_at, "pdq_origin": origin,
            }  # fmt: skip
            if canonical_row(full) != body:
                raise AmparoError("bulk insert: the row template differs from the canonical row", code="bulk_template")
            self._compared += 1
        return body

    def check_sealed(self, entry_id: int) -> None:
        """Read the first new row back as stored: its MAC must verify (else nothing is kept)."""
        assert self.sealer is not None
        table = BankEntryRow.__table__
        row = self.session.execute(select(table).where(table.c.id == entry_id)).one()
        if not self.sealer.check_row(TABLE, dict(row._mapping)):
            raise AmparoError("bulk insert: a new row does not verify as stored", code="bulk_seal")
        self.checked = True


def _json(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, str) and safe_text(v):
        return f'"{v}"'
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# ---------------------------------------------------------------------------------- feed readers


def hashes_in_range(
    session: Session, *, signal_type: str, first_id: int, last_id: int, after_id: int = 0, limit: int = 200_000
) -> tuple[np.ndarray, np.ndarray]:
    """The (ids int64 (n,), hashes uint8 (n, 32)) of `signal_type` entries with first_id <= id <=
    last_id and id > after_id, ascending, at most `limit`: what a bulk feed marker stands for."""
    t = BankEntryRow.__table__
    q = (
        select(t.c.id, t.c.value)
        .where(t.c.signal_type == signal_type, t.c.id >= first_id, t.c.id <= last_id, t.c.id > after_id)
        .order_by(t.c.id)
        .limit(limit)
    )
    rows = session.execute(q).all()
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, 32), np.uint8)
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    hashes = np.frombuffer(bytes.fromhex("".join(r[1] for r in rows)), np.uint8).reshape(-1, 32)
    return ids, hashes
