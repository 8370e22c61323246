"""Tables of what the flow decided: checked items' events and refused attempts, the generation
ledger, legal reports (on the shared `Base`). Apart from tables.py so that CLI verbs that only
manage keys or banks do not declare them. Only repositories touch these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from amparo.store.tables import Base, BigId, utcnow


class EventRow(Base):
    """Every checked item's verdict, committed before the response is sent."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    item_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    account: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    surface: Mapped[str | None] = mapped_column(String(50), nullable=True)
    jurisdiction: Mapped[str | None] = mapped_column(String(20), nullable=True)
    decision: Mapped[str] = mapped_column(String(20), index=True)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    rule: Mapped[str | None] = mapped_column(String(100), nullable=True)
    automated: Mapped[bool] = mapped_column(Boolean, default=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    pdq: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verdict: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py


class AccountAttemptRow(Base):
    """Refused requests per account: repeated csam_request attempts raise severity."""

    __tablename__ = "account_attempts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ix_attempts_account_label_time", "account", "label", "created_at"),)


class GenerationRow(Base):
    """The generation ledger: every request through the proxy, allowed or refused."""

    __tablename__ = "generations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    generation_id: Mapped[str] = mapped_column(String(64), unique=True)
    watermark_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    account: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    operation: Mapped[str] = mapped_column(String(20))  # generation | edit
    request_sha256: Mapped[str] = mapped_column(String(64))
    prompt_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    decision: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str | None] = mapped_column(String(30), nullable=True)  # where it was decided
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    input_hashes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outputs: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{index, pdq, sha256, watermark_id}]
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py


class GenerationOutputRow(Base):
    """One row per returned image: PDQ is searched here when the watermark and manifest are gone."""

    __tablename__ = "generation_outputs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    generation_id: Mapped[str] = mapped_column(ForeignKey("generations.generation_id", ondelete="CASCADE"), index=True)
    output_index: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    pdq: Mapped[str | None] = mapped_column(String(64), nullable=True)
    watermark_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    pdq_centre: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0003: central 80 %
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py


class LegalReportRow(Base):
    """A legal report queued by policy or by a reviewer (NCMEC CyberTipline, DSA, national authority)."""

    __tablename__ = "legal_reports"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    target: Mapped[str] = mapped_column(String(40))  # ncmec | dsa_sor | es_authorities | ...
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | needs_review | sent | failed
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py
