"""Video banks: a banked video (its bank, opinion, sampling, facts) and its frames' PDQ hashes.

Frames are what the PDQ frame index holds: `index_changes` rows of signal type "vpdq" carry the
frame row id, so the index maps a hit back to its video and timestamp."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from amparo.store.tables import Base, BigId, utcnow


class BankVideoRow(Base):
    __tablename__ = "bank_videos"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the frame list: the same vPDQ is one video
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # of the file, when known
    md5: Mapped[str | None] = mapped_column(String(32), nullable=True)
    opinion: Mapped[str] = mapped_column(String(20), default="positive")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    sampling: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    video: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # container, codec, size, rate
    frame_count: Mapped[int] = mapped_column(Integer, default=0)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity/mac.py
    __table_args__ = (UniqueConstraint("bank_id", "digest", name="uq_bank_video_digest"),)


class BankVideoFrameRow(Base):
    __tablename__ = "bank_video_frames"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("bank_videos.id", ondelete="CASCADE"))
    frame_number: Mapped[int] = mapped_column(Integer)
    timestamp: Mapped[float] = mapped_column(Float)
    quality: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity/mac.py
    __table_args__ = (Index("ix_bank_video_frames_video", "video_id", "frame_number"),)
