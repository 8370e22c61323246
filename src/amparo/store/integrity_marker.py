"""Sealed markers in integrity_heads: the last audit head a full check verified (for the audit page)."""

from __future__ import annotations

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from amparo.integrity.mac import RowSealer
from amparo.store.tables import IntegrityHeadRow

AUDIT_VERIFIED = "marker:audit_verified"


def read(session: Session, sealer: RowSealer, name: str = AUDIT_VERIFIED) -> tuple[int, str] | None:
    """(seq, hash) if present and its MAC holds; None otherwise (then verify from the start)."""
    heads: Table = IntegrityHeadRow.__table__  # type: ignore[assignment]
    row = session.execute(
        select(heads.c.row_count, heads.c.presence_xor, heads.c.mac).where(heads.c.table_name == name)
    ).one_or_none()
    if row is None or sealer.head_mac(name, int(row.row_count), str(row.presence_xor)) != row.mac:
        return None
    return int(row.row_count), str(row.presence_xor)


def write(session: Session, sealer: RowSealer, seq: int, hash_hex: str, name: str = AUDIT_VERIFIED) -> None:
    heads: Table = IntegrityHeadRow.__table__  # type: ignore[assignment]
    values = {"row_count": seq, "presence_xor": hash_hex, "mac": sealer.head_mac(name, seq, hash_hex)}
    res = session.execute(update(heads).where(heads.c.table_name == name).values(values))
    if res.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(heads.insert().values(table_name=name, **values))
