"""Tables of hash exchanges (issue 12): configured exchanges and their sync state, the per-bank
change feed partners pull, partner keys and partners' feedback. Only store/exchanges_repo.py
and store/banks_repo.py (the feed) touch these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from amparo.store.tables import Base, BigId, utcnow


class BankChangeRow(Base):
    """Append-only feed of every entry change of every bank (all signal types), with the value also
    on removals: what an Amparo-to-Amparo partner pulls (tombstones included)."""

    __tablename__ = "bank_changes"
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bank_id: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int] = mapped_column(BigInteger)
    op: Mapped[str] = mapped_column(String(10))  # add | remove
    signal_type: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(200))
    opinion: Mapped[str | None] = mapped_column(String(20), nullable=True)
    __table_args__ = (Index("ix_bank_changes_bank_seq", "bank_id", "seq"),)


class ExchangeRow(Base):
    """A configured exchange: which adapter, which local bank it fills, and its non-secret config.
    Secrets (API keys, passwords) are never stored: the config names environment variables."""

    __tablename__ = "exchanges"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    bank: Mapped[str] = mapped_column(String(100))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    interval_s: Mapped[int] = mapped_column(Integer, default=3600)  # 0 = on demand only
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExchangeStateRow(Base):
    """Sync state: the cursor (committed with the records it covers), counts, errors, the lease."""

    __tablename__ = "exchange_state"
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"), primary_key=True)
    cursor: Mapped[Any] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="never")  # never|running|ok|failed
    last_run_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    fetched: Mapped[int] = mapped_column(BigInteger, default=0)
    added: Mapped[int] = mapped_column(BigInteger, default=0)
    removed: Mapped[int] = mapped_column(BigInteger, default=0)
    skipped: Mapped[int] = mapped_column(BigInteger, default=0)
    skipped_samples: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the last few bad records
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)


class PartnerRow(Base):
    """A partner instance allowed to pull chosen banks: key `amx_<prefix>_<secret>`, SHA-256 stored."""

    __tablename__ = "exchange_partners"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    banks: Mapped[list[str]] = mapped_column(JSON, default=list)  # per-bank read permission
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class PartnerFeedbackRow(Base):
    """What a partner said about a published hash: seen | false_positive | confirmed."""

    __tablename__ = "exchange_feedback"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(BigInteger, index=True)
    bank: Mapped[str] = mapped_column(String(100))
    signal_type: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
