"""Banks, API keys, the index feed and integrity heads, on the shared `Base`; other rooms' tables are in
tables_*.py (schema.py loads them all). Only repositories (store/*_repo.py) touch these; the pipeline
sees domain objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class BankRow(Base):
    __tablename__ = "banks"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    category: Mapped[str] = mapped_column(String(20))  # csam | ncii | other
    source: Mapped[str] = mapped_column(String(200), default="local")
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # HMA's per-request sampling ratio (0..1); None = 1.0 when enabled. `enabled` is kept = ratio > 0.
    enabled_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    negative: Mapped[bool] = mapped_column(Boolean, default=False)  # a "safe" bank
    pdq_threshold: Mapped[int] = mapped_column(Integer, default=31)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py


class BankEntryRow(Base):
    __tablename__ = "bank_entries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    signal_type: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(200))
    opinion: Mapped[str] = mapped_column(String(20), default="positive")  # positive|negative|disputed
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    entry_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # 0005: where a PDQ value came from: "reference" (hashed here from the full decode),
    # "imported" (as the source file gave it), "legacy_fast" (hashed before 0005, bytes not kept)
    pdq_origin: Mapped[str | None] = mapped_column(String(20), nullable=True)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py
    __table_args__ = (
        Index("ix_bank_entries_lookup", "signal_type", "value"),
        UniqueConstraint("bank_id", "signal_type", "value", name="uq_bank_entry_value"),
        # SQLite: never reuse the id of a deleted entry (an old bank_content_id must not name another hash)
        {"sqlite_autoincrement": True},
    )


class IndexChangeRow(Base):
    """Append-only feed of hamming-index changes; API processes apply rows after their `seq`."""

    __tablename__ = "index_changes"
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    signal_type: Mapped[str] = mapped_column(String(40), index=True)
    entry_id: Mapped[int] = mapped_column(BigInteger)
    op: Mapped[str] = mapped_column(String(10))  # add | remove
    value: Mapped[str | None] = mapped_column(String(200), nullable=True)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))  # SHA-256 of the high-entropy secret
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py


class IntegrityHeadRow(Base):
    """Per covered table: row count and XOR of keyed presence tokens, MAC'd (integrity/mac.py)."""

    __tablename__ = "integrity_heads"
    table_name: Mapped[str] = mapped_column(String(60), primary_key=True)
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    presence_xor: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))
