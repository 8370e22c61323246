"""Banking videos: hash a file into frames, or import vPDQ hash files (the reference's lines, or the
JSON of python-threatexchange / HMA), and export them back."""

from __future__ import annotations

from typing import Any

from amparo.audit import names
from amparo.banks.management import Acting
from amparo.errors import BadInput, NotFound
from amparo.pipeline_video import hash_video_bytes
from amparo.signals.hashes.vpdq import VpdqFrame, format_compact_json, format_reference_lines, parse_any
from amparo.store import banks_repo, video_repo
from amparo.store.database import Database

FORMATS = ("vpdq", "json")  # reference lines | python-threatexchange JSON


def _frames_in(frames: list[VpdqFrame]) -> list[video_repo.FrameIn]:
    return [video_repo.FrameIn(f.frame_number, f.quality, f.hash, f.timestamp) for f in frames]


def _record_add(s: Any, who: Acting, bank: str, vid: int, created: bool, frames: int, via: str) -> None:
    who.record(s, names.BANK_ENTRY_ADD, bank, {"video_id": vid, "created": created, "frames": frames, "via": via})


def bank_video_file(
    db: Database,
    settings: Any,
    who: Acting,
    *,
    bank: str,
    data: bytes,
    opinion: str = "positive",
    note: str | None = None,
    external_id: str | None = None,
) -> dict[str, Any]:
    with db.session() as s:
        banks_repo.get_bank(s, name=bank)  # 404 before any decoding
    vh = hash_video_bytes(settings, data)
    with db.session() as s:
        b = banks_repo.get_bank(s, name=bank)
        vid, created = video_repo.add_video(
            s,
            bank_id=b.id,
            frames=_frames_in(list(vh.frames)),
            sampling=vh.sampling.to_dict(),
            video=vh.info.to_dict() if vh.info else None,
            opinion=opinion,
            note=note,
            external_id=external_id,
        )
        _record_add(s, who, bank, vid, created, len(vh.frames), "video_upload")
    return {"video_id": vid, "created": created, "frames": len(vh.frames), "sampling": vh.sampling.to_dict()}


def import_video_hashes(
    db: Database,
    who: Acting,
    *,
    bank: str,
    text: str,
    opinion: str = "positive",
    note: str | None = None,
    external_id: str | None = None,
    seconds_per_hash: float | None = None,
) -> dict[str, Any]:
    """One video's vPDQ in either format. The sampling is recorded as imported (unknown unless given)."""
    frames = parse_any(text)
    if not frames:
        raise BadInput("no vPDQ frames in the file", code="empty_import")
    sampling: dict[str, Any] = {"rule": "imported", "seconds_per_hash": seconds_per_hash}
    if seconds_per_hash is None and len(frames) > 1:
        # The spacing of the timestamps tells the interval the ranges are joined over.
        gaps = sorted(b.timestamp - a.timestamp for a, b in zip(frames, frames[1:], strict=False))
        sampling["seconds_per_hash"] = round(max(gaps[len(gaps) // 2], 0.0), 3)
    with db.session() as s:
        b = banks_repo.get_bank(s, name=bank)
        vid, created = video_repo.add_video(
            s,
            bank_id=b.id,
            frames=_frames_in(frames),
            sampling=sampling,
            opinion=opinion,
            note=note,
            external_id=external_id,
        )
        _record_add(s, who, bank, vid, created, len(frames), "vpdq_import")
    return {"video_id": vid, "created": created, "frames": len(frames)}


def video_in_bank(s: Any, *, bank: str, video_id: int) -> Any:
    b = banks_repo.get_bank(s, name=bank)
    v = video_repo.get_video(s, video_id=video_id)
    if v.bank_id != b.id:
        raise NotFound(f"no video {video_id} in bank {bank!r}")
    return v


def remove_video(db: Database, who: Acting, *, bank: str, video_id: int) -> int:
    with db.session() as s:
        video_in_bank(s, bank=bank, video_id=video_id)
        n = video_repo.remove_videos(s, video_ids=[video_id])
        who.record(s, names.BANK_ENTRY_REMOVE, bank, {"video_id": video_id, "count": n})
    return n


def export_video(db: Database, who: Acting, *, bank: str, video_id: int, fmt: str = "vpdq") -> str:
    """One banked video's vPDQ; the export is recorded like a bank export."""
    if fmt not in FORMATS:
        raise BadInput(f"unknown vPDQ format {fmt!r}: one of {', '.join(FORMATS)}", code="bad_format")
    with db.session() as s:
        video_in_bank(s, bank=bank, video_id=video_id)
        rows = video_repo.video_frames(s, video_id=video_id)
        frames = [VpdqFrame(r.frame_number, r.quality, r.hash, r.timestamp) for r in rows]
        who.record(s, names.BANK_EXPORT, bank, {"format": fmt, "video_id": video_id, "frames": len(frames)})
    return format_reference_lines(frames) if fmt == "vpdq" else format_compact_json(frames)
