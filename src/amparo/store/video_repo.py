"""Banked videos and their frames. Every frame written or removed also goes into the index change
feed (signal type "vpdq"), which the video frame index follows like the image index follows "pdq"."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, func, insert, literal, null, select
from sqlalchemy.orm import Session

from amparo.errors import BadInput, NotFound
from amparo.store import integrity_repo
from amparo.store.tables import BankRow, IndexChangeRow, utcnow
from amparo.store.tables_video import BankVideoFrameRow, BankVideoRow

FEED = "vpdq"
CHANGES: Table = IndexChangeRow.__table__  # type: ignore[assignment]
VIDEOS: Table = BankVideoRow.__table__  # type: ignore[assignment]
FRAMES: Table = BankVideoFrameRow.__table__  # type: ignore[assignment]
OPINIONS = ("positive", "negative", "disputed")
MAX_FRAMES_PER_VIDEO = 200_000


@dataclass(frozen=True)
class FrameIn:
    frame_number: int
    quality: int
    hash: str
    timestamp: float


@dataclass(frozen=True)
class FrameHit:
    """A banked frame with its video and bank: what the matcher needs to resolve an index hit."""

    frame_id: int
    video_id: int
    frame_number: int
    timestamp: float
    quality: int
    hash: str
    bank_name: str
    category: str
    negative_bank: bool
    bank_enabled: bool
    pdq_threshold: int
    opinion: str
    enabled: bool


def frames_digest(frames: Sequence[FrameIn]) -> str:
    text = "".join(f"{f.frame_number},{f.quality},{f.hash},{f.timestamp:.3f}\n" for f in frames)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class VideoIn:
    frames: Sequence[FrameIn]
    sampling: dict[str, Any]
    video: dict[str, Any] | None = None
    opinion: str = "positive"
    note: str | None = None
    external_id: str | None = None


def add_video(session: Session, *, bank_id: int, **kw: Any) -> tuple[int, bool]:
    """Bank one video's frames (see add_videos)."""
    return add_videos(session, bank_id=bank_id, videos=[VideoIn(**kw)])[0]


def add_videos(session: Session, *, bank_id: int, videos: Sequence[VideoIn]) -> list[tuple[int, bool]]:
    """Bank videos. Returns (video id, created) per video, in order; the same frame list in the same
    bank is one video (its opinion and note are updated instead of a second copy).

    Bulk by design: one executemany for the videos, one for their frames, and the feed rows in
    INSERT ... SELECT, so the database reads the new frame ids back itself."""
    for v in videos:
        if v.opinion not in OPINIONS:
            raise BadInput(f"bad opinion {v.opinion!r}: one of {', '.join(OPINIONS)}", code="bad_opinion")
        if not v.frames:
            raise BadInput("a video needs at least one frame hash", code="empty_video")
        if len(v.frames) > MAX_FRAMES_PER_VIDEO:
            raise BadInput(f"a video may have at most {MAX_FRAMES_PER_VIDEO} frames", code="too_many_frames")
    digests = [frames_digest(v.frames) for v in videos]
    found: dict[str, BankVideoRow] = {}
    for start in range(0, len(digests), 500):
        q = select(BankVideoRow).where(
            BankVideoRow.bank_id == bank_id, BankVideoRow.digest.in_(digests[start : start + 500])
        )
        found.update({r.digest: r for r in session.scalars(q)})
    for v, d in zip(videos, digests, strict=True):
        if d in found:
            found[d].opinion = v.opinion
            if v.note is not None:
                found[d].note = v.note
    session.flush()
    new = {d: v for v, d in zip(videos, digests, strict=True) if d not in found}  # a repeat within the call: once
    conn = session.connection()
    if new:
        now = utcnow()
        conn.execute(
            insert(BankVideoRow),
            [
                {
                    "bank_id": bank_id,
                    "digest": d,
                    "sha256": (v.video or {}).get("sha256"),
                    "md5": (v.video or {}).get("md5"),
                    "opinion": v.opinion,
                    "enabled": True,
                    "note": v.note,
                    "external_id": v.external_id,
                    "sampling": v.sampling,
                    "video": v.video or {},
                    "frame_count": len(v.frames),
                    "duration_s": max(f.timestamp for f in v.frames),
                    "created_at": now,
                }
                for d, v in new.items()
            ],
        )
        ids: dict[str, int] = {}
        keys = list(new)
        for start in range(0, len(keys), 500):
            q_ids = select(BankVideoRow.digest, BankVideoRow.id).where(
                BankVideoRow.bank_id == bank_id, BankVideoRow.digest.in_(keys[start : start + 500])
            )
            ids.update({str(dg): int(i) for dg, i in session.execute(q_ids)})
        integrity_repo.seal_inserted(session, VIDEOS, sorted(ids.values()))
        conn.execute(
            insert(BankVideoFrameRow),
            [
                {
                    "video_id": ids[d],
                    "frame_number": f.frame_number,
                    "timestamp": f.timestamp,
                    "quality": f.quality,
                    "hash": f.hash,
                }
                for d, v in new.items()
                for f in v.frames
            ],
        )
        vids = sorted(ids.values())
        for start in range(0, len(vids), 500):
            q_frames = select(BankVideoFrameRow.id).where(BankVideoFrameRow.video_id.in_(vids[start : start + 500]))
            integrity_repo.seal_inserted(session, FRAMES, [int(i) for i in session.scalars(q_frames)])
        for start in range(0, len(vids), 500):
            fed = conn.execute(
                insert(IndexChangeRow)
                .from_select(
                    ["signal_type", "entry_id", "op", "value"],
                    select(literal(FEED), BankVideoFrameRow.id, literal("add"), BankVideoFrameRow.hash)
                    .where(BankVideoFrameRow.video_id.in_(vids[start : start + 500]))
                    .order_by(BankVideoFrameRow.id),
                )
                .returning(IndexChangeRow.seq)
            )
            integrity_repo.seal_inserted(session, CHANGES, [int(r[0]) for r in fed])
        found_ids = dict(ids)
    else:
        found_ids = {}
    return [(found[d].id, False) if d in found else (found_ids[d], True) for d in digests]


def get_video(session: Session, *, video_id: int) -> BankVideoRow:
    row = session.get(BankVideoRow, video_id)
    if row is None:
        raise NotFound(f"no banked video with id {video_id}")
    return row


def list_videos(session: Session, *, bank_id: int, after_id: int = 0, limit: int = 1000) -> list[BankVideoRow]:
    q = select(BankVideoRow).where(BankVideoRow.bank_id == bank_id, BankVideoRow.id > after_id)
    return list(session.scalars(q.order_by(BankVideoRow.id).limit(limit)))


def count_videos(session: Session, *, bank_id: int) -> int:
    q = select(func.count()).select_from(BankVideoRow).where(BankVideoRow.bank_id == bank_id)
    return int(session.scalar(q) or 0)


def video_frames(session: Session, *, video_id: int) -> list[BankVideoFrameRow]:
    q = select(BankVideoFrameRow).where(BankVideoFrameRow.video_id == video_id)
    return list(session.scalars(q.order_by(BankVideoFrameRow.frame_number, BankVideoFrameRow.id)))


def remove_videos(session: Session, *, video_ids: Iterable[int]) -> int:
    ids = list(video_ids)
    if not ids:
        return 0
    session.flush()
    fed = session.connection().execute(
        insert(IndexChangeRow)
        .from_select(
            ["signal_type", "entry_id", "op", "value"],
            select(literal(FEED), BankVideoFrameRow.id, literal("remove"), null())
            .where(BankVideoFrameRow.video_id.in_(ids))
            .order_by(BankVideoFrameRow.id),
        )
        .returning(IndexChangeRow.seq)
    )
    integrity_repo.seal_inserted(session, CHANGES, [int(r[0]) for r in fed])
    session.execute(delete(BankVideoFrameRow).where(BankVideoFrameRow.video_id.in_(ids)))
    n = len(list(session.scalars(select(BankVideoRow.id).where(BankVideoRow.id.in_(ids)))))
    session.execute(delete(BankVideoRow).where(BankVideoRow.id.in_(ids)))
    session.flush()
    return n


def remove_bank_videos(session: Session, *, bank_id: int) -> int:
    """Before a bank is deleted: its videos' frames leave the index too."""
    ids = list(session.scalars(select(BankVideoRow.id).where(BankVideoRow.bank_id == bank_id)))
    return remove_videos(session, video_ids=ids)


def frame_hits(session: Session, *, frame_ids: Iterable[int]) -> list[FrameHit]:
    ids = list(frame_ids)
    out: list[FrameHit] = []
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        q = (
            select(
                BankVideoFrameRow.id,
                BankVideoFrameRow.video_id,
                BankVideoFrameRow.frame_number,
                BankVideoFrameRow.timestamp,
                BankVideoFrameRow.quality,
                BankVideoFrameRow.hash,
                BankRow.name,
                BankRow.category,
                BankRow.negative,
                BankRow.enabled,
                BankRow.pdq_threshold,
                BankVideoRow.opinion,
                BankVideoRow.enabled,
            )
            .join(BankVideoRow, BankVideoRow.id == BankVideoFrameRow.video_id)
            .join(BankRow, BankRow.id == BankVideoRow.bank_id)
            .where(BankVideoFrameRow.id.in_(chunk))
        )
        out.extend(FrameHit(*r) for r in session.execute(q))  # type: ignore[call-arg]
    return out


def usable_hash_counts(session: Session, *, video_ids: Iterable[int], quality_floor: int) -> dict[int, int]:
    """Distinct frame hashes of quality >= floor per video: the denominator of the banked share."""
    ids = list(video_ids)
    if not ids:
        return {}
    q = (
        select(BankVideoFrameRow.video_id, func.count(func.distinct(BankVideoFrameRow.hash)))
        .where(BankVideoFrameRow.video_id.in_(ids), BankVideoFrameRow.quality >= quality_floor)
        .group_by(BankVideoFrameRow.video_id)
    )
    return {int(v): int(n) for v, n in session.execute(q)}


def samplings(session: Session, *, video_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = list(video_ids)
    if not ids:
        return {}
    q = select(BankVideoRow.id, BankVideoRow.sampling).where(BankVideoRow.id.in_(ids))
    return {int(i): dict(sm or {}) for i, sm in session.execute(q)}
