"""Tables of human review and the evidence vault (on the shared `Base`); the audit trail's are in
tables_audit.py. Only repositories (review_repo, evidence_repo) touch these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from amparo.store.tables import Base, BigId, utcnow


class UserRow(Base):
    """A person who signs in to the reviewer UI. Passwords are argon2id hashes."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # reviewer | senior_reviewer | admin | auditor
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(nullable=True)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py


class UiSessionRow(Base):
    """Server-side sign-in session; the cookie carries a random token, the row its SHA-256."""

    __tablename__ = "ui_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SignInAttemptRow(Base):
    """Every sign-in attempt: failures within a window rate-limit a name and an address."""

    __tablename__ = "sign_in_attempts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    ip: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        Index("ix_sign_in_attempts_name_time", "name", "created_at"),
        Index("ix_sign_in_attempts_ip_time", "ip", "created_at"),
    )


class ExposureCounterRow(Base):
    """How many items a reviewer revealed on one UTC day (wellbeing limit)."""

    __tablename__ = "exposure_counters"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD (UTC)
    count: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_exposure_user_day"),)


class CaseRow(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(20))  # policy | manual
    state: Mapped[str] = mapped_column(String(20), index=True)  # open|assigned|escalated|decided
    priority: Mapped[int] = mapped_column(Integer, index=True)  # higher first
    title: Mapped[str] = mapped_column(String(300))
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    account: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    outcome: Mapped[str | None] = mapped_column(String(30), nullable=True)
    outcome_label: Mapped[str | None] = mapped_column(String(40), nullable=True)
    report_state: Mapped[str | None] = mapped_column(String(20), nullable=True)  # queued|sent
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic concurrency
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py


class CaseItemRow(Base):
    """An item (event) in a case with the hashes and signals that caused it."""

    __tablename__ = "case_items"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    evidence_ref: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(30), default="image")
    signals: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{type, value, quality}]
    matches: Mapped[list[Any]] = mapped_column(JSON, default=list)
    classifications: Mapped[list[Any]] = mapped_column(JSON, default=list)
    text_excerpt: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py


class CaseDecisionRow(Base):
    """Decision history of a case (append-only)."""

    __tablename__ = "case_decisions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(30))  # confirm | not_violating | escalate
    label: Mapped[str | None] = mapped_column(String(40), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[list[Any]] = mapped_column(JSON, default=list)  # what it triggered
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py


class AppealRow(Base):
    __tablename__ = "appeals"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    account: Mapped[str | None] = mapped_column(String(200), nullable=True)
    statement: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), index=True)  # open | decided
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    outcome: Mapped[str | None] = mapped_column(String(30), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py


class VaultKeyCheckRow(Base):
    """Key check value of the vault's master key: a wrong key is refused at start."""

    __tablename__ = "vault_key_check"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    key_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvidenceItemRow(Base):
    """One preserved original. The bytes live encrypted in a file; the data key is stored
    wrapped by the master key (which never enters the database)."""

    __tablename__ = "evidence_items"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)  # file name
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    item_id: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    case_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    sha1: Mapped[str] = mapped_column(String(40))
    md5: Mapped[str] = mapped_column(String(32))
    pdq: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pdq_quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    key_id: Mapped[str] = mapped_column(String(64))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    metadata_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    profile: Mapped[str] = mapped_column(String(40), default="default")
    reported: Mapped[bool] = mapped_column(Boolean, default=False)
    retain_until: Mapped[datetime] = mapped_column(index=True)
    pdq_origin: Mapped[str | None] = mapped_column(String(20), nullable=True)  # 0005: see BankEntryRow
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py


class EvidenceTombstoneRow(Base):
    """What stays after deletion: the hashes, when and why (never the content)."""

    __tablename__ = "evidence_tombstones"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    item_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    captured_at: Mapped[datetime] = mapped_column()
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    sha1: Mapped[str] = mapped_column(String(40))
    md5: Mapped[str] = mapped_column(String(32))
    pdq: Mapped[str | None] = mapped_column(String(64), nullable=True)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py


class LegalHoldRow(Base):
    __tablename__ = "legal_holds"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    evidence_ref: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    authority: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column(nullable=True)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 0005: integrity/mac.py
