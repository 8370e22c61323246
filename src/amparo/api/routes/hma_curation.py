"""HMA's curator routes (/c/*) for banks and their content, on Amparo's banks and entries.

An HMA "content" is an Amparo bank entry: its id is the entry id that lookups return. Changes go
through the same bank functions as the native API (/v1/banks), so both are recorded alike."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request

from amparo.api.auth import require
from amparo.api.routes.hma_common import (
    AMPARO_TO_HMA,
    MAX_ID,
    HmaError,
    HmaRoute,
    bool_param,
    check_bank_name,
    hash_upload,
    hash_url,
    is_json,
    json_body,
    normalise,
    storable_text,
    to_amparo_type,
)
from amparo.banks import management as bm
from amparo.errors import Conflict, NotFound
from amparo.store import banks_repo
from amparo.store.banks_repo import NewEntry
from amparo.store.keys_repo import ApiPrincipal
from amparo.store.tables import BankEntryRow, BankRow

router = APIRouter(prefix="/c", route_class=HmaRoute, tags=["hma-compatible"])
NOTE_MAX = 255
METADATA_KEYS = ("content_id", "content_uri", "json")
DISABLE_KEY = "hma_disable_until_ts"  # entry metadata: HMA's "disabled until" time


def ratio_of(b: BankRow) -> float:
    return float(b.enabled_ratio) if b.enabled_ratio is not None else (1.0 if b.enabled else 0.0)


def bank_json(b: BankRow) -> dict[str, Any]:
    return {"name": b.name, "matching_enabled_ratio": ratio_of(b)}


def _ratio(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise HmaError(400, "enabled_ratio must be a number")
    try:
        return float(value)
    except ValueError:
        raise HmaError(400, f"Invalid float: '{str(value)[:40]}'") from None


def _bank_or_404(s: Any, name: str) -> BankRow:
    if len(name) > 100 or not storable_text(name):  # no bank can have this name: do not query for it
        raise HmaError(404, f"bank '{name[:100]!r}' not found")
    try:
        return banks_repo.get_bank(s, name=name)
    except NotFound:
        raise HmaError(404, f"bank '{name}' not found") from None


@router.get("/banks")
def list_banks(request: Request, _: ApiPrincipal = Depends(require("banks.read"))) -> list[dict[str, Any]]:
    with request.app.state.service.db.session() as s:
        return [bank_json(b) for b in banks_repo.list_banks(s)]


@router.post("/banks", status_code=201)
async def create_bank(request: Request, p: ApiPrincipal = Depends(require("banks.write"))) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise HmaError(400, "the body must be a JSON object")
    name = check_bank_name(body.get("name"))
    if body.get("enabled_ratio") is not None:
        ratio = _ratio(body["enabled_ratio"])
    elif body.get("enabled") is not None:
        ratio = 1.0 if bool(body["enabled"]) else 0.0
    else:
        ratio = 1.0
    category = body.get("category", "other")  # Amparo's extension: csam | ncii | other
    try:
        svc = request.app.state.service
        with svc.db.session() as s:
            b = bm.create_bank(
                s,
                bm.api_acting(svc.audit, p),
                name=name,
                category=str(category),
                source="hma-api",
                enabled_ratio=ratio,
                enabled=ratio > 0,
            )
            return bank_json(b)
    except Conflict:
        raise HmaError(403, "Bank already exists") from None


@router.get("/bank/{bank_name}")
def get_bank(request: Request, bank_name: str, _: ApiPrincipal = Depends(require("banks.read"))) -> dict[str, Any]:
    with request.app.state.service.db.session() as s:
        return bank_json(_bank_or_404(s, bank_name))


@router.put("/bank/{bank_name}")
async def update_bank(
    request: Request, bank_name: str, p: ApiPrincipal = Depends(require("banks.write"))
) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise HmaError(400, "the body must be a JSON object")
    new_name = check_bank_name(body["name"]) if body.get("name") is not None else None
    ratio = None
    if body.get("enabled") is not None:
        ratio = 1.0 if bool(body["enabled"]) else 0.0
    if body.get("enabled_ratio") is not None:
        ratio = _ratio(body["enabled_ratio"])
    svc = request.app.state.service
    try:
        with svc.db.session() as s:
            _bank_or_404(s, bank_name)
            b = bm.update_bank(s, bm.api_acting(svc.audit, p), name=bank_name, new_name=new_name, enabled_ratio=ratio)
            out = bank_json(b)
    except Conflict:
        raise HmaError(403, "Bank name already exists") from None
    svc.matcher.refresh()
    return out


@router.delete("/bank/{bank_name}")
def delete_bank(request: Request, bank_name: str, p: ApiPrincipal = Depends(require("banks.write"))) -> dict[str, Any]:
    svc = request.app.state.service
    with svc.db.session() as s, contextlib.suppress(NotFound):  # HMA: deleting a bank that is not there succeeds
        bm.delete_bank(s, bm.api_acting(svc.audit, p), name=bank_name)
    svc.matcher.refresh()
    return {"message": "Done"}


# -- content -------------------------------------------------------------------------------------


def _note(value: Any) -> str | None:
    if not value:
        return None
    if not isinstance(value, str) or not storable_text(value):
        raise HmaError(400, "note should be a string (UTF-8, no NUL)")
    if len(value) > NOTE_MAX:
        raise HmaError(400, f"note must be at most {NOTE_MAX} characters")
    return value


def _metadata(raw: Any) -> dict[str, Any] | None:
    """HMA's user metadata: only content_id, content_uri (strings) and json (an object)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise HmaError(400, "metadata should be a json object")
    raw = {k: v for k, v in raw.items() if k != "collab"}  # provenance is the server's, never the client's
    unknown = sorted(set(raw) - set(METADATA_KEYS))
    if unknown:
        raise HmaError(400, f"Invalid metadata: unknown field(s) {', '.join(unknown)[:200]}")
    for k in ("content_id", "content_uri"):
        if raw.get(k) is not None and not isinstance(raw[k], str):
            raise HmaError(400, f"Invalid metadata: {k} must be a string")
    if raw.get("json") is not None and not isinstance(raw["json"], dict):
        raise HmaError(400, "Invalid metadata: json must be an object")
    if not storable_text(json.dumps(raw, ensure_ascii=False)) or "\\u0000" in json.dumps(raw):
        raise HmaError(400, "Invalid metadata: text must be UTF-8 without NUL")
    return {k: v for k, v in raw.items() if v is not None} or None


def _disable_until(e: BankEntryRow) -> int:
    until = int((e.entry_metadata or {}).get(DISABLE_KEY, 0) or 0)
    if e.enabled:  # a time that has passed stays visible, as in HMA; a later re-enable wins over it
        return until if 1 < until <= time.time() else 1
    return until if until > 1 else 0


def _signals(e: BankEntryRow) -> dict[str, str]:
    return {AMPARO_TO_HMA.get(e.signal_type, e.signal_type): e.value}


def _user_metadata(e: BankEntryRow) -> dict[str, Any] | None:
    meta = {k: (e.entry_metadata or {})[k] for k in METADATA_KEYS if k in (e.entry_metadata or {})}
    return meta or None


def _add(
    svc: Any, who: bm.Acting, bank: str, hashes: dict[str, str], note: str | None, meta: dict[str, Any] | None
) -> dict[str, Any]:
    if not hashes:
        raise HmaError(400, "No signals given")
    entries = []
    for hma_type, value in hashes.items():
        amparo = to_amparo_type(svc, hma_type)
        entries.append(NewEntry(amparo, normalise(svc, hma_type, value), "positive", note, None, meta))
    with svc.db.session() as s:
        _bank_or_404(s, bank)
        ids = bm.add_entries(s, who, bank=bank, entries=entries, via="hma")
    svc.matcher.refresh()
    return {"id": ids[0], "signals": {h: e.value for h, e in zip(hashes, entries, strict=True)}}


@router.post("/bank/{bank_name}/content")
async def add_content(
    request: Request,
    bank_name: str,
    url: str | None = None,
    content_type: str | None = None,
    types: str | None = None,
    p: ApiPrincipal = Depends(require("banks.write")),
) -> dict[str, Any]:
    """Hash media into the bank: `?url=` (when URL fetching is on) or a multipart upload; optional
    `metadata` {content_id, content_uri, json} and `note`, in a JSON body or as form fields."""
    svc = request.app.state.service
    with svc.db.session() as s:
        _bank_or_404(s, bank_name)
    meta_raw: Any = None
    note_raw: Any = None
    if is_json(request):
        body = await json_body(request, required=False)
        if isinstance(body, dict):
            meta_raw, note_raw = body.get("metadata"), body.get("note")
    elif request.headers.get("content-type", "").startswith("multipart/"):
        form = await request.form(max_files=2, max_fields=10)
        if isinstance(form.get("metadata"), str):
            try:
                meta_raw = json.loads(str(form["metadata"]))
            except ValueError:
                raise HmaError(400, "metadata form field must be valid JSON") from None
        note_raw = form.get("note")
    meta, note = _metadata(meta_raw), _note(note_raw)
    if url:
        hashes = await hash_url(request, url, content_type, types)
    elif request.headers.get("content-type", "").startswith("multipart/"):
        hashes = await hash_upload(request)
    else:
        raise HmaError(400, "Neither `url` nor multipart file upload was received")
    return await anyio.to_thread.run_sync(_add, svc, bm.api_acting(svc.audit, p), bank_name, hashes, note, meta)


@router.post("/bank/{bank_name}/signal")
async def add_signal(
    request: Request, bank_name: str, p: ApiPrincipal = Depends(require("banks.write"))
) -> dict[str, Any]:
    """Raw hashes: {"pdq": "<64 hex>", "video_md5": "<32 hex>", "note"?: "..."}."""
    svc = request.app.state.service
    with svc.db.session() as s:
        _bank_or_404(s, bank_name)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise HmaError(400, "the body must be a JSON object")
    note = _note(body.pop("note", None))
    return _add(svc, bm.api_acting(svc.audit, p), bank_name, body, note, None)


@router.get("/bank/{bank_name}/content/{content_id}")
def get_content(
    request: Request,
    bank_name: str,
    content_id: int,
    include_signals: str | None = None,
    include_metadata: str | None = None,
    _: ApiPrincipal = Depends(require("banks.read")),
) -> dict[str, Any]:
    with_signals, with_meta = bool_param(include_signals, False), bool_param(include_metadata, True)
    with request.app.state.service.db.session() as s:
        b = _bank_or_404(s, bank_name)
        e = _entry_or_404(s, bank_name, content_id)
        out: dict[str, Any] = {
            "id": e.id,
            "disable_until_ts": _disable_until(e),
            "original_media_uri": None,
            "bank": bank_json(b),
        }
        if with_signals:
            out["signals"] = _signals(e)
        meta = _user_metadata(e)
        if with_meta and meta:
            out["metadata"] = meta
        if e.note:
            out["note"] = e.note
        return out


def _entry_or_404(s: Any, bank_name: str, content_id: int) -> BankEntryRow:
    if not 0 < content_id <= MAX_ID:
        raise HmaError(404, f"content '{content_id}' not found")
    try:
        return banks_repo.get_entry_in_bank(s, bank=bank_name, entry_id=content_id)
    except NotFound:
        raise HmaError(404, f"content '{content_id}' not found") from None


def five_years_from_now() -> int:
    return int((datetime.now() + timedelta(days=365 * 5)).timestamp())


def _disable_ts(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise HmaError(400, "disable_until_ts must be a non-negative integer")
    try:
        ts = int(value)
    except ValueError:
        raise HmaError(400, f"Invalid int: '{str(value)[:40]}'") from None
    if ts < 0:
        raise HmaError(400, "disable_until_ts must be a non-negative integer")
    if ts > five_years_from_now():
        raise HmaError(400, "disable_until_ts must be less than 5 years in the future")
    return ts


@router.put("/bank/{bank_name}/content/{content_id}")
async def update_content(
    request: Request, bank_name: str, content_id: int, p: ApiPrincipal = Depends(require("banks.write"))
) -> dict[str, Any]:
    """HMA's content update: `disable_until_ts` (0 off, 1 on, or a unix time until which it is off) and `note`."""
    svc = request.app.state.service
    with svc.db.session() as s:
        _bank_or_404(s, bank_name)
        _entry_or_404(s, bank_name, content_id)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise HmaError(400, "the body must be a JSON object")
    fields: dict[str, Any] = {}
    if "disable_until_ts" in body:
        ts = _disable_ts(body["disable_until_ts"])
        fields["enabled"] = ts == 1 or (ts > 1 and ts <= time.time())
        fields["metadata"] = {DISABLE_KEY: ts if ts > 1 else None}
    if "note" in body:
        fields["note"] = _note(body["note"]) or ""
    with svc.db.session() as s:
        b = _bank_or_404(s, bank_name)
        e = bm.update_entry(s, bm.api_acting(svc.audit, p), bank=bank_name, entry_id=content_id, **fields)
        out = {
            "id": e.id,
            "disable_until_ts": _disable_until(e),
            "collab_metadata": {},
            "original_media_uri": None,
            "bank": bank_json(b),
            "user_metadata": _user_metadata(e),
            "note": e.note or None,
        }
    svc.matcher.refresh()
    return out


@router.delete("/bank/{bank_name}/content/{content_id}")
def delete_content(
    request: Request, bank_name: str, content_id: int, p: ApiPrincipal = Depends(require("banks.write"))
) -> dict[str, Any]:
    svc = request.app.state.service
    with svc.db.session() as s:
        _bank_or_404(s, bank_name)
        try:
            _entry_or_404(s, bank_name, content_id)
        except HmaError:
            return {"deleted": 0}  # HMA counts what it removed; nothing is not an error
        n = bm.remove_entries(s, bm.api_acting(svc.audit, p), bank=bank_name, entry_ids=[content_id])
    svc.matcher.refresh()
    return {"deleted": n}
