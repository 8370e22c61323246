"""Exchanges, their sync state and lease, the bank change feed, partners and their feedback."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from amparo.errors import BadInput, Conflict, NotFound, Unauthorized
from amparo.store.tables import utcnow
from amparo.store.tables_exchanges import (
    BankChangeRow,
    ExchangeRow,
    ExchangeStateRow,
    PartnerFeedbackRow,
    PartnerRow,
)

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")
FEEDBACK_KINDS = ("seen", "false_positive", "confirmed")
SAMPLES_KEPT = 20


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name or ""):
        raise BadInput(f"bad {what} name {name!r}: use letters, digits, _ . - (at most 100)", code="bad_name")


# -- exchanges -----------------------------------------------------------------------------------
def create_exchange(
    session: Session, *, name: str, kind: str, bank: str, config: dict[str, Any], interval_s: int, enabled: bool = True
) -> ExchangeRow:
    _check_name(name, "exchange")
    if interval_s < 0:
        raise BadInput("interval must be ≥ 0 seconds (0 = on demand only)", code="bad_interval")
    if session.scalar(select(ExchangeRow.id).where(ExchangeRow.name == name)) is not None:
        raise Conflict(f"exchange {name!r} already exists")
    row = ExchangeRow(name=name, kind=kind, bank=bank, config=config, interval_s=interval_s, enabled=enabled)
    session.add(row)
    session.flush()
    session.add(ExchangeStateRow(exchange_id=row.id, status="never", skipped_samples=[]))
    session.flush()
    return row


def list_exchanges(session: Session) -> list[tuple[ExchangeRow, ExchangeStateRow]]:
    q = select(ExchangeRow, ExchangeStateRow).join(ExchangeStateRow).order_by(ExchangeRow.name)
    return [(e, st) for e, st in session.execute(q)]


def get_exchange(session: Session, *, name: str) -> ExchangeRow:
    row = session.scalar(select(ExchangeRow).where(ExchangeRow.name == name))
    if row is None:
        raise NotFound(f"no exchange named {name!r}")
    return row


def get_state(session: Session, *, exchange_id: int, for_update: bool = False) -> ExchangeStateRow:
    q = select(ExchangeStateRow).where(ExchangeStateRow.exchange_id == exchange_id)
    if for_update:
        q = q.with_for_update()
    row = session.scalar(q)
    if row is None:
        raise NotFound(f"no state for exchange {exchange_id}")
    return row


def delete_exchange(session: Session, *, name: str) -> ExchangeRow:
    row = get_exchange(session, name=name)
    st = session.get(ExchangeStateRow, row.id)
    if st is not None:
        session.delete(st)
        session.flush()  # before the exchange row (the database would cascade otherwise)
    session.delete(row)
    session.flush()
    return row


def acquire_lease(session: Session, *, exchange_id: int, owner: str, seconds: float) -> bool:
    """Take the exchange's lease if free or expired (one atomic UPDATE: one replica wins)."""
    now = utcnow()
    res = session.execute(
        update(ExchangeStateRow)
        .where(
            ExchangeStateRow.exchange_id == exchange_id,
            (ExchangeStateRow.lease_owner.is_(None))
            | (ExchangeStateRow.lease_until < now)
            | (ExchangeStateRow.lease_owner == owner),
        )
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


def renew_lease(session: Session, *, exchange_id: int, owner: str, seconds: float) -> bool:
    res = session.execute(
        update(ExchangeStateRow)
        .where(ExchangeStateRow.exchange_id == exchange_id, ExchangeStateRow.lease_owner == owner)
        .values(lease_until=utcnow() + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


def release_lease(session: Session, *, exchange_id: int, owner: str) -> None:
    session.execute(
        update(ExchangeStateRow)
        .where(ExchangeStateRow.exchange_id == exchange_id, ExchangeStateRow.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def record_page(
    session: Session,
    *,
    exchange_id: int,
    cursor: Any,
    fetched: int,
    added: int,
    removed: int,
    skipped: list[dict[str, Any]],
) -> ExchangeStateRow:
    """Advance the cursor and the counts: called in the transaction that applied the page."""
    st = get_state(session, exchange_id=exchange_id)
    st.cursor = cursor
    st.fetched = (st.fetched or 0) + fetched
    st.added = (st.added or 0) + added
    st.removed = (st.removed or 0) + removed
    if skipped:
        st.skipped = (st.skipped or 0) + len(skipped)
        st.skipped_samples = (list(st.skipped_samples or []) + skipped)[-SAMPLES_KEPT:]
    session.flush()
    return st


def mark_run(session: Session, *, exchange_id: int, status: str, error: str | None = None) -> None:
    st = get_state(session, exchange_id=exchange_id)
    now = utcnow()
    st.status = status
    if status == "running":
        st.last_run_at = now
        st.runs = (st.runs or 0) + 1
    elif status == "ok":
        st.last_success_at = now
        st.last_error = None
    elif status == "failed":
        st.last_error = (error or "")[:2000]
    session.flush()


def reset_cursor(session: Session, *, exchange_id: int) -> None:
    get_state(session, exchange_id=exchange_id).cursor = None


def due_exchanges(session: Session, *, now: datetime) -> list[ExchangeRow]:
    out = []
    for ex, st in list_exchanges(session):
        if not ex.enabled or ex.interval_s <= 0:
            continue
        last = st.last_run_at
        if last is not None and last.tzinfo is None:
            from datetime import UTC

            last = last.replace(tzinfo=UTC)
        if last is None or (now - last).total_seconds() >= ex.interval_s:
            out.append(ex)
    return out


# -- the bank change feed ------------------------------------------------------------------------
def bank_changes_after(session: Session, *, bank_id: int, seq: int, limit: int) -> list[Any]:
    return list(
        session.execute(
            select(
                BankChangeRow.seq,
                BankChangeRow.op,
                BankChangeRow.signal_type,
                BankChangeRow.value,
                BankChangeRow.opinion,
            )
            .where(BankChangeRow.bank_id == bank_id, BankChangeRow.seq > seq)
            .order_by(BankChangeRow.seq)
            .limit(limit)
        )
    )


def latest_bank_change(session: Session, *, bank_id: int) -> int:
    return int(session.scalar(select(func.max(BankChangeRow.seq)).where(BankChangeRow.bank_id == bank_id)) or 0)


# -- partners ------------------------------------------------------------------------------------
def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_partner(session: Session, *, name: str, banks: list[str]) -> tuple[PartnerRow, str]:
    """Returns the row and the key, shown once and never stored."""
    _check_name(name, "partner")
    if session.scalar(select(PartnerRow.id).where(PartnerRow.name == name)) is not None:
        raise Conflict(f"partner {name!r} already exists")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = PartnerRow(name=name, prefix=prefix, secret_hash=_digest(secret), banks=sorted(set(banks)))
    session.add(row)
    session.flush()
    return row, f"amx_{prefix}_{secret}"


def authenticate_partner(session: Session, *, key: str) -> PartnerRow:
    parts = (key or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "amx":
        raise Unauthorized("invalid partner key")
    row = session.scalar(select(PartnerRow).where(PartnerRow.prefix == parts[1]))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _digest(parts[2])):
        raise Unauthorized("invalid partner key")
    return row


def list_partners(session: Session) -> list[PartnerRow]:
    return list(session.scalars(select(PartnerRow).order_by(PartnerRow.name)))


def get_partner(session: Session, *, name: str) -> PartnerRow:
    row = session.scalar(select(PartnerRow).where(PartnerRow.name == name))
    if row is None:
        raise NotFound(f"no partner named {name!r}")
    return row


def set_partner_banks(session: Session, *, name: str, banks: list[str]) -> PartnerRow:
    row = get_partner(session, name=name)
    row.banks = sorted(set(banks))
    session.flush()
    return row


def revoke_partner(session: Session, *, name: str) -> PartnerRow:
    row = get_partner(session, name=name)
    row.revoked_at = utcnow()
    session.flush()
    return row


def add_feedback(
    session: Session, *, partner_id: int, bank: str, signal_type: str, value: str, kind: str, note: str | None
) -> PartnerFeedbackRow:
    if kind not in FEEDBACK_KINDS:
        raise BadInput(f"bad feedback {kind!r}: one of {', '.join(FEEDBACK_KINDS)}", code="bad_feedback")
    row = PartnerFeedbackRow(
        partner_id=partner_id, bank=bank, signal_type=signal_type, value=value, kind=kind, note=note
    )
    session.add(row)
    session.flush()
    return row


def list_feedback(session: Session, *, bank: str | None = None, limit: int = 1000) -> list[PartnerFeedbackRow]:
    q = select(PartnerFeedbackRow).order_by(PartnerFeedbackRow.id.desc()).limit(limit)
    if bank:
        q = q.where(PartnerFeedbackRow.bank == bank)
    return list(session.scalars(q))


def entry_ids_by_values(session: Session, *, bank_id: int, pairs: list[tuple[str, str]]) -> list[int]:
    """Ids of the bank's entries with these (signal type, value) pairs (tombstones remove by value)."""
    from amparo.store.tables import BankEntryRow

    by_type: dict[str, list[str]] = {}
    for t, v in pairs:
        by_type.setdefault(t, []).append(v)
    out: list[int] = []
    for t, values in by_type.items():
        for i in range(0, len(values), 500):
            out.extend(
                session.scalars(
                    select(BankEntryRow.id).where(
                        BankEntryRow.bank_id == bank_id,
                        BankEntryRow.signal_type == t,
                        BankEntryRow.value.in_(values[i : i + 500]),
                    )
                )
            )
    return out


def entry_ids_by_external(session: Session, *, bank_id: int, external_ids: list[str]) -> list[int]:
    from amparo.store.tables import BankEntryRow

    out: list[int] = []
    for i in range(0, len(external_ids), 500):
        out.extend(
            session.scalars(
                select(BankEntryRow.id).where(
                    BankEntryRow.bank_id == bank_id, BankEntryRow.external_id.in_(external_ids[i : i + 500])
                )
            )
        )
    return out


def external_id_of(session: Session, *, bank: str, signal_type: str, value: str) -> str | None:
    """The partner's id of a hash held in a bank (NCMEC feedback names the entry), if any."""
    from amparo.store.tables import BankEntryRow, BankRow

    return session.scalar(
        select(BankEntryRow.external_id)
        .join(BankRow, BankRow.id == BankEntryRow.bank_id)
        .where(BankRow.name == bank, BankEntryRow.signal_type == signal_type, BankEntryRow.value == value)
        .limit(1)
    )
