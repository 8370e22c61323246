"""The video generation guard's tables: asynchronous jobs, and the vPDQ of every released video.

`generation_video_jobs`: one row per job the proxy accepted (its id is what the caller sees; the
upstream's id stays here). `generation_video_frames`: the frames of each released video, what
`amparo trace` compares a re-encoded clip with (the C2PA manifest and SHA-256 do not survive)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from amparo.store.tables import Base, BigId, utcnow


class VideoJobRow(Base):
    __tablename__ = "generation_video_jobs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    video_id: Mapped[str] = mapped_column(String(64), unique=True)  # "video_<hex>": the caller's id
    generation_id: Mapped[str] = mapped_column(String(64), index=True)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)  # API key name
    account: Mapped[str | None] = mapped_column(String(200), nullable=True)
    upstream_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued|in_progress|completed|failed
    progress: Mapped[int] = mapped_column(Integer, default=0)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    seconds: Mapped[str | None] = mapped_column(String(10), nullable=True)
    size: Mapped[str | None] = mapped_column(String(20), nullable=True)
    remixed_from: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    facts: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict
    )  # derived/possible-minor facts for the output check
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {variant: sha256} of released files
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity/mac.py


class GenerationVideoFrameRow(Base):
    __tablename__ = "generation_video_frames"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    generation_id: Mapped[str] = mapped_column(ForeignKey("generations.generation_id", ondelete="CASCADE"))
    output_index: Mapped[int] = mapped_column(Integer)
    frame_number: Mapped[int] = mapped_column(Integer)
    timestamp: Mapped[float] = mapped_column(Float)
    quality: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    row_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity/mac.py
    __table_args__ = (Index("ix_generation_video_frames_gen", "generation_id", "output_index"),)
