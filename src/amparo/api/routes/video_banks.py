"""Banked videos: hash an uploaded video into a bank, import/export vPDQ hash files, list, remove."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Request, UploadFile
from fastapi.responses import PlainTextResponse

from amparo.api.auth import require
from amparo.api.uploads import read_upload
from amparo.banks.management import api_acting
from amparo.banks.videos import bank_video_file, export_video, import_video_hashes, remove_video
from amparo.store import banks_repo, video_repo
from amparo.store.keys_repo import ApiPrincipal
from amparo.store.tables_video import BankVideoRow

router = APIRouter(prefix="/v1/banks", tags=["banks"])
Opinion = Literal["positive", "negative", "disputed"]


def video_out(v: BankVideoRow) -> dict[str, Any]:
    return {
        "id": v.id,
        "opinion": v.opinion,
        "enabled": v.enabled,
        "note": v.note,
        "external_id": v.external_id,
        "sha256": v.sha256,
        "md5": v.md5,
        "frames": v.frame_count,
        "duration_s": v.duration_s,
        "sampling": v.sampling,
        "video": v.video,
        "created_at": v.created_at.isoformat() if v.created_at else None,
    }


@router.post("/{name}/videos/upload", status_code=201, summary="Hash an uploaded video (vPDQ) into the bank")
def add_video_upload(
    request: Request,
    name: str,
    file: UploadFile = File(...),
    opinion: Opinion = Form("positive"),
    note: str | None = Form(None),
    external_id: str | None = Form(None),
    p: ApiPrincipal = Depends(require("banks.write")),
) -> dict[str, Any]:
    svc = request.app.state.service
    data = read_upload(file, svc.settings.max_video_bytes)
    out = bank_video_file(
        svc.db,
        svc.settings,
        api_acting(svc.audit, p),
        bank=name,
        data=data,
        opinion=opinion,
        note=note,
        external_id=external_id,
    )
    svc.video_matcher.refresh()
    return out


@router.post("/{name}/videos/import", status_code=201, summary="Import one video's vPDQ (reference lines or pytx JSON)")
def import_video(
    request: Request,
    name: str,
    text: str = Body(..., media_type="text/plain"),
    opinion: Opinion = "positive",
    note: str | None = None,
    external_id: str | None = None,
    seconds_per_hash: float | None = None,
    p: ApiPrincipal = Depends(require("banks.write")),
) -> dict[str, Any]:
    svc = request.app.state.service
    out = import_video_hashes(
        svc.db,
        api_acting(svc.audit, p),
        bank=name,
        text=text,
        opinion=opinion,
        note=note,
        external_id=external_id,
        seconds_per_hash=seconds_per_hash,
    )
    svc.video_matcher.refresh()
    return out


@router.get("/{name}/videos")
def list_videos(
    request: Request, name: str, after_id: int = 0, limit: int = 100, _: ApiPrincipal = Depends(require("banks.read"))
) -> dict[str, Any]:
    limit = max(1, min(limit, 1000))
    with request.app.state.service.db.session() as s:
        b = banks_repo.get_bank(s, name=name)
        rows = video_repo.list_videos(s, bank_id=b.id, after_id=after_id, limit=limit)
        return {"videos": [video_out(v) for v in rows], "next_after_id": rows[-1].id if len(rows) == limit else None}


@router.get("/{name}/videos/{video_id}/export", response_class=PlainTextResponse)
def export_one(
    request: Request,
    name: str,
    video_id: int,
    format: Literal["vpdq", "json"] = "vpdq",
    p: ApiPrincipal = Depends(require("banks.read")),
) -> PlainTextResponse:
    svc = request.app.state.service
    text = export_video(svc.db, api_acting(svc.audit, p), bank=name, video_id=video_id, fmt=format)
    return PlainTextResponse(text, media_type="application/json" if format == "json" else "text/plain")


@router.delete("/{name}/videos/{video_id}")
def delete_video(
    request: Request, name: str, video_id: int, p: ApiPrincipal = Depends(require("banks.write"))
) -> dict[str, Any]:
    svc = request.app.state.service
    n = remove_video(svc.db, api_acting(svc.audit, p), bank=name, video_id=video_id)
    svc.video_matcher.refresh()
    return {"deleted": n}
