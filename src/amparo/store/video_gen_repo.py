"""Video generation jobs and the frames of released videos (tables_video_gen.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
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


def frames_after(s: Session, *, after_id: int, min_quality: int = 0) -> list[Any]:
    """(id, generation_id, output_index, hash) of released videos' frames with id > after_id,
    through the session's connection (Core rows, no ORM loading)."""
    t = GenerationVideoFrameRow.__table__
    q = (
        select(t.c.id, t.c.generation_id, t.c.output_index, t.c.hash)
        .where(t.c.id > after_id, t.c.quality >= min_quality)
        .order_by(t.c.id)
    )
    return list(s.connection().execute(q).all())


def frame_stats(s: Session, *, after_id: int) -> tuple[int, int, int]:
    """(rows, highest id, rows with id > after_id) of generation_video_frames: a cache built up to
    after_id is stale when rows went (purge) or committed late under a lower id."""
    t = GenerationVideoFrameRow.__table__
    n, top = s.connection().execute(select(func.count(), func.max(t.c.id)).select_from(t)).one()
    newer = s.connection().execute(select(func.count()).select_from(t).where(t.c.id > after_id)).scalar_one()
    return int(n or 0), int(top or 0), int(newer or 0)


def delete_frames_of(s: Session, generation_ids: list[str]) -> None:
    """The frames and the jobs of ledger rows past their retention (GenerationLedger.purge_expired)."""
    s.execute(delete(GenerationVideoFrameRow).where(GenerationVideoFrameRow.generation_id.in_(generation_ids)))
    s.execute(delete(VideoJobRow).where(VideoJobRow.generation_id.in_(generation_ids)))
