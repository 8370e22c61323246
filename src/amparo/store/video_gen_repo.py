"""Video generation jobs and the frames of released videos (tables_video_gen.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from amparo.store.tables_video_gen import GenerationVideoFrameRow, VideoJobRow

TERMINAL = ("completed", "failed")


def _aware(dt: datetime | None) -> datetime | None:
    if dt is not None and dt.tzinfo is None:  # SQLite drops the zone; everything is stored in UTC
        return dt.replace(tzinfo=UTC)
    return dt


def job_to_dict(row: VideoJobRow) -> dict[str, Any]:
    return {
        "video_id": row.video_id,
        "generation_id": row.generation_id,
        "owner": row.owner,
        "account": row.account,
        "upstream_id": row.upstream_id,
        "status": row.status,
        "progress": row.progress,
        "model": row.model,
        "seconds": row.seconds,
        "size": row.size,
        "remixed_from": row.remixed_from,
        "error": row.error,
        "facts": dict(row.facts or {}),
        "content": dict(row.content or {}),
        "created_at": _aware(row.created_at),
        "completed_at": _aware(row.completed_at),
        "expires_at": _aware(row.expires_at),
    }


def create_job(s: Session, **fields: Any) -> dict[str, Any]:
    row = VideoJobRow(**fields)
    s.add(row)
    s.flush()
    return job_to_dict(row)


def _row(s: Session, video_id: str) -> VideoJobRow | None:
    return s.scalars(select(VideoJobRow).where(VideoJobRow.video_id == video_id)).first()


def get_job(s: Session, video_id: str, *, owner: str | None = None, any_owner: bool = False) -> dict[str, Any] | None:
    row = _row(s, video_id)
    if row is None or (not any_owner and row.owner != owner):
        return None
    return job_to_dict(row)


def update_job(s: Session, video_id: str, **fields: Any) -> None:
    row = _row(s, video_id)
    if row is None:
        return
    for k, v in fields.items():
        setattr(row, k, v)


def delete_job(s: Session, video_id: str) -> None:
    row = _row(s, video_id)
    if row is not None:
        s.delete(row)


def list_jobs(
    s: Session, *, owner: str | None, after: str | None, limit: int, order: str, any_owner: bool = False
) -> tuple[list[dict[str, Any]], bool]:
    """A page of jobs, newest first unless order == "asc"; (page, has_more)."""
    q = select(VideoJobRow)
    if not any_owner:
        q = q.where(VideoJobRow.owner.is_(None) if owner is None else VideoJobRow.owner == owner)
    asc = order == "asc"
    if after is not None:
        anchor = _row(s, after)
        if anchor is None or (not any_owner and anchor.owner != owner):
            return [], False
        q = q.where(VideoJobRow.id > anchor.id if asc else VideoJobRow.id < anchor.id)
    q = q.order_by(VideoJobRow.id.asc() if asc else VideoJobRow.id.desc()).limit(limit + 1)
    rows = list(s.scalars(q))
    return [job_to_dict(r) for r in rows[:limit]], len(rows) > limit


def unfinished_jobs(s: Session) -> list[dict[str, Any]]:
    rows = s.scalars(select(VideoJobRow).where(VideoJobRow.status.not_in(TERMINAL)).order_by(VideoJobRow.id))
    return [job_to_dict(r) for r in rows]


def add_frames(s: Session, generation_id: str, output_index: int, frames: Iterable[Any]) -> int:
    """Frames with .frame_number, .timestamp, .quality and .hash (a VpdqFrame)."""
    rows = [
        GenerationVideoFrameRow(
            generation_id=generation_id,
            output_index=output_index,
            frame_number=f.frame_number,
            timestamp=f.timestamp,
            quality=f.quality,
            hash=f.hash,
        )
        for f in frames
    ]
    s.add_all(rows)
    return len(rows)


def all_frames(s: Session, *, min_quality: int = 0) -> list[tuple[str, int, float, str]]:
    """(generation_id, output_index, timestamp, hash) of every frame of every released video."""
    rows = s.execute(
        select(
            GenerationVideoFrameRow.generation_id,
            GenerationVideoFrameRow.output_index,
            GenerationVideoFrameRow.timestamp,
            GenerationVideoFrameRow.hash,
        )
        .where(GenerationVideoFrameRow.quality >= min_quality)
        .order_by(GenerationVideoFrameRow.id)
    ).all()
    return [(str(r[0]), int(r[1]), float(r[2]), str(r[3])) for r in rows]


def delete_frames_of(s: Session, generation_ids: list[str]) -> None:
    s.execute(delete(GenerationVideoFrameRow).where(GenerationVideoFrameRow.generation_id.in_(generation_ids)))
