"""Self-submission cases of the /protect page: the case a person holds (number + secret, the secret
only as a keyed hash) and the bank entries their submission placed.

A row names hashes, never an image: the image never reaches the server."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from amparo.store.tables import Base, BigId, utcnow


class ProtectCaseRow(Base):
    __tablename__ = "protect_cases"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 of the secret, hex
    category: Mapped[str] = mapped_column(String(20))  # ncii | csam (the person said under 18)
    bank: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | withdrawn
    language: Mapped[str] = mapped_column(String(8), default="en")
    pow_nonce: Mapped[str] = mapped_column(String(64), unique=True)  # a challenge is spent once
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ProtectCaseEntryRow(Base):
    """One hash of a case, and the bank entry it became (None once withdrawn)."""

    __tablename__ = "protect_case_entries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("protect_cases.id", ondelete="CASCADE"))
    signal_type: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # image | video
    entry_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    __table_args__ = (
        UniqueConstraint("case_id", "signal_type", "value", name="uq_protect_case_value"),
        Index("ix_protect_case_entries_entry", "entry_id"),
        Index("ix_protect_case_entries_value", "signal_type", "value"),
    )
