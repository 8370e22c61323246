"""Check every covered row's MAC and every table's head; name the first broken row."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from amparo.integrity.mac import MAC_COLUMN, ZERO, RowSealer, xor_hex
from amparo.store import integrity_repo


@dataclass
class TableCheck:
    table: str
    rows: int
    ok: bool
    first_broken_id: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_table(session: Session, sealer: RowSealer, name: str, table: Table) -> TableCheck:
    count, acc = 0, ZERO
    ids: list[int] = []
    for row in integrity_repo.iter_rows(session, table):
        pk = int(row[integrity_repo.pk_name(table)])
        if row.get(MAC_COLUMN) is None:
            return TableCheck(name, count, False, pk, f"{name} row {pk} is not sealed (written outside Amparo?)")
        if not sealer.check_row(name, row):
            return TableCheck(name, count, False, pk, f"{name} row {pk} was altered (its MAC does not match)")
        acc = xor_hex(acc, sealer.presence(name, pk))
        count += 1
        ids.append(pk)
    head = integrity_repo.read_head(session, name)
    if head is None:  # made at the first start (ensure_heads): missing means deleted
        return TableCheck(name, count, False, None, f"{name}: the table head is missing (deleted outside Amparo)")
    h_count, h_xor, h_mac = head
    if sealer.head_mac(name, h_count, h_xor) != h_mac:
        return TableCheck(name, count, False, None, f"{name}: the table head was altered (its MAC does not match)")
    if (h_count, h_xor) != (count, acc):
        missing = _first_gap(ids)
        hint = f"; the first id missing from the sequence is {missing}" if missing is not None else ""
        if h_count > count:
            what = f"{h_count - count} row(s) deleted outside Amparo"
        elif h_count < count:
            what = f"{count - h_count} row(s) more than the head counts"
        else:
            what = "rows replaced outside Amparo"
        return TableCheck(name, count, False, missing, f"{name}: {what} (head {h_count}, found {count}){hint}")
    return TableCheck(name, count, True)


def _first_gap(ids: list[int]) -> int | None:
    prev = 0
    for i in ids:
        if i > prev + 1:
            return prev + 1
        prev = i
    return None


def check_all(session: Session, sealer: RowSealer) -> list[TableCheck]:
    return [check_table(session, sealer, n, t) for n, t in integrity_repo.covered_tables().items()]
