"""HMA-compatible subset, so clients written for Meta's Hasher-Matcher-Actioner work unchanged.

Shapes follow HMA 1.1 (see docs/api.md). Differences: an API key is required (Bearer, X-API-Key, or
HTTP Basic with the key as password); fetching media by URL is not offered (upload the bytes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from amparo.api.auth import require
from amparo.api.uploads import read_upload
from amparo.banks import management as bm
from amparo.banks.management import api_acting, entries_from_image
from amparo.domain.signals import Signal
from amparo.errors import BadInput, Conflict
from amparo.store import banks_repo
from amparo.store.banks_repo import NewEntry
from amparo.store.keys_repo import ApiPrincipal

router = APIRouter(tags=["hma-compatible"])
HMA_PHOTO_TYPES = ("pdq",)  # what HMA's default install computes for photos


@router.get("/status", response_class=PlainTextResponse)
def status() -> str:
    return "I-AM-ALIVE"


@router.get("/status/live", response_class=PlainTextResponse)
def status_live() -> str:
    return "I-AM-ALIVE"


async def _photo_from_form(request: Request) -> bytes:
    form = await request.form()
    upload = form.get("photo") or form.get("file")
    if upload is None or not hasattr(upload, "file"):
        raise BadInput("multipart field 'photo' with the image is required", code="missing_file")
    return read_upload(upload, request.app.state.service.settings.max_upload_bytes, "photo")  # type: ignore[arg-type]


def _hashes(svc: Any, data: bytes) -> dict[str, str]:
    decoded = svc.pipeline.decode(data)
    return {s.type: s.value for s in svc.pipeline.hash_of_record(decoded, data) if s.type in HMA_PHOTO_TYPES}


@router.get("/h/hash")
def hash_url(url: str | None = None, _: ApiPrincipal = Depends(require("hash"))) -> dict[str, str]:
    raise BadInput(
        "fetching media by URL is not offered; POST the file as multipart field 'photo'", code="url_fetch_disabled"
    )


@router.post("/h/hash")
async def hash_upload(request: Request, _: ApiPrincipal = Depends(require("hash"))) -> dict[str, str]:
    data = await _photo_from_form(request)
    svc = request.app.state.service
    import anyio.to_thread

    return await anyio.to_thread.run_sync(_hashes, svc, data)


def _lookup(svc: Any, signal_type: str, signal: str, banks: str | None) -> dict[str, list[dict[str, Any]]]:
    hasher = svc.signals.get(signal_type)
    res = svc.matcher.lookup(
        [Signal(hasher.name, hasher.normalise(signal))], banks=[b for b in banks.split(",") if b] if banks else None
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for m in res.matches:
        out.setdefault(m.bank, []).append({"bank_content_id": m.entry_id, "distance": str(m.distance)})
    return out


@router.get("/m/lookup")
def lookup_get(
    request: Request,
    signal: str,
    signal_type: str = "pdq",
    banks: str | None = None,
    seed: str | None = None,
    _: ApiPrincipal = Depends(require("lookup")),
) -> dict[str, Any]:
    return _lookup(request.app.state.service, signal_type, signal, banks)


@router.post("/m/lookup")
async def lookup_upload(
    request: Request,
    banks: str | None = None,
    bypass_coinflip: bool = False,
    seed: str | None = None,
    _: ApiPrincipal = Depends(require("lookup")),
) -> dict[str, Any]:
    data = await _photo_from_form(request)
    svc = request.app.state.service
    import anyio.to_thread

    def work() -> dict[str, Any]:
        return {t: _lookup(svc, t, v, banks) for t, v in _hashes(svc, data).items()}

    return await anyio.to_thread.run_sync(work)


@router.get("/m/raw_lookup")
def raw_lookup(
    request: Request,
    signal: str,
    signal_type: str = "pdq",
    banks: str | None = None,
    include_distance: bool = False,
    _: ApiPrincipal = Depends(require("lookup")),
) -> dict[str, Any]:
    svc = request.app.state.service
    hasher = svc.signals.get(signal_type)
    value = hasher.normalise(signal)
    # Raw lookup is index-only in HMA (no enable checks): every entry within the threshold.
    if hasher.name == "pdq":
        hits = svc.matcher.pdq.search(bytes.fromhex(value), 31)
    else:
        with svc.db.session() as s:
            hits = [(i.entry_id, 0) for i in banks_repo.lookup_exact(s, signal_type=hasher.name, value=value)]
    if banks:
        wanted = {b for b in banks.split(",") if b}
        with svc.db.session() as s:
            keep = {
                i.entry_id for i in banks_repo.entries_info(s, entry_ids=[h[0] for h in hits]) if i.bank_name in wanted
            }
        hits = [h for h in hits if h[0] in keep]
    if include_distance:
        return {"matches": [{"bank_content_id": i, "distance": d} for i, d in hits]}
    return {"matches": [i for i, _ in hits]}


def _bank_json(b: Any) -> dict[str, Any]:
    return {"name": b.name, "matching_enabled_ratio": 1.0 if b.enabled else 0.0}


@router.get("/c/banks")
def banks(request: Request, _: ApiPrincipal = Depends(require("banks.read"))) -> list[dict[str, Any]]:
    with request.app.state.service.db.session() as s:
        return [_bank_json(b) for b in banks_repo.list_banks(s)]


@router.post("/c/banks", status_code=201)
def create_bank(
    request: Request, body: dict[str, Any] = Body(...), p: ApiPrincipal = Depends(require("banks.write"))
) -> Any:
    name = body.get("name")
    if not isinstance(name, str):
        raise BadInput("field 'name' is required", code="bad_bank_name")
    enabled = bool(body.get("enabled", True)) and float(body.get("enabled_ratio", 1.0)) > 0
    try:
        svc = request.app.state.service
        with svc.db.session() as s:
            b = bm.create_bank(
                s,
                api_acting(svc.audit, p),
                name=name,
                category=body.get("category", "other"),
                source="hma-api",
                enabled=enabled,
            )
            return _bank_json(b)
    except Conflict as e:
        return JSONResponse({"message": e.message}, status_code=403)  # HMA answers 403 for an existing bank


@router.get("/c/bank/{name}")
def get_bank(request: Request, name: str, _: ApiPrincipal = Depends(require("banks.read"))) -> dict[str, Any]:
    with request.app.state.service.db.session() as s:
        return _bank_json(banks_repo.get_bank(s, name=name))


@router.put("/c/bank/{name}")
def update_bank(
    request: Request, name: str, body: dict[str, Any] = Body(...), p: ApiPrincipal = Depends(require("banks.write"))
) -> dict[str, Any]:
    enabled = None
    if "enabled" in body:
        enabled = bool(body["enabled"])
    if "enabled_ratio" in body:
        enabled = float(body["enabled_ratio"]) > 0
    svc = request.app.state.service
    with svc.db.session() as s:
        who = api_acting(svc.audit, p)
        return _bank_json(bm.update_bank(s, who, name=name, new_name=body.get("name"), enabled=enabled))


@router.delete("/c/bank/{name}")
def delete_bank(request: Request, name: str, p: ApiPrincipal = Depends(require("banks.write"))) -> dict[str, Any]:
    svc = request.app.state.service
    with svc.db.session() as s:
        bm.delete_bank(s, api_acting(svc.audit, p), name=name)
    svc.matcher.refresh()
    return {"message": "Done"}


def _add(svc: Any, p: ApiPrincipal, bank: str, entries: list[NewEntry]) -> dict[str, Any]:
    with svc.db.session() as s:
        ids = bm.add_entries(s, api_acting(svc.audit, p), bank=bank, entries=entries, via="hma")
    svc.matcher.refresh()
    return {"id": ids[0], "signals": {e.signal_type: e.value for e in entries}}


@router.post("/c/bank/{name}/content")
async def add_content(request: Request, name: str, p: ApiPrincipal = Depends(require("banks.write"))) -> dict[str, Any]:
    form = await request.form()
    note = form.get("note")
    data = await _photo_from_form(request)
    svc = request.app.state.service
    import anyio.to_thread

    def work() -> dict[str, Any]:
        entries = [
            e
            for e in entries_from_image(
                svc.pipeline,
                data,
                note=note if isinstance(note, str) else None,
                quality_floor=svc.settings.pdq_quality_floor,
            )
            if e.signal_type in HMA_PHOTO_TYPES
        ]
        if not entries:
            raise BadInput("the image's PDQ quality is under the floor; nothing to add", code="low_quality")
        return _add(svc, p, name, entries)

    return await anyio.to_thread.run_sync(work)


@router.post("/c/bank/{name}/signal")
def add_signal(
    request: Request, name: str, body: dict[str, Any] = Body(...), p: ApiPrincipal = Depends(require("banks.write"))
) -> dict[str, Any]:
    svc = request.app.state.service
    note = body.get("note")
    entries = []
    for stype, value in body.items():
        if stype == "note":
            continue
        if not isinstance(value, str):
            raise BadInput(f"signal {stype!r} must be a string", code="bad_hash")
        hasher = svc.signals.get(stype)
        entries.append(
            NewEntry(hasher.name, hasher.normalise(value), "positive", note if isinstance(note, str) else None)
        )
    if not entries:
        raise BadInput('no signal given, e.g. {"pdq": "<64 hex>"}', code="missing_signal")
    return _add(svc, p, name, entries)


@router.get("/c/bank/{name}/content/{content_id}")
def get_content(
    request: Request, name: str, content_id: int, _: ApiPrincipal = Depends(require("banks.read"))
) -> dict[str, Any]:
    with request.app.state.service.db.session() as s:
        e = banks_repo.get_entry_in_bank(s, bank=name, entry_id=content_id)
        return {
            "id": e.id,
            "bank": name,
            "disable_until_ts": 1 if e.enabled else 0,
            "note": e.note,
            "signals": {e.signal_type: e.value},
            "original_media_uri": None,
        }


@router.delete("/c/bank/{name}/content/{content_id}")
def delete_content(
    request: Request, name: str, content_id: int, p: ApiPrincipal = Depends(require("banks.write"))
) -> dict[str, Any]:
    svc = request.app.state.service
    with svc.db.session() as s:
        n = bm.remove_entries(s, api_acting(svc.audit, p), bank=name, entry_ids=[content_id])
    svc.matcher.refresh()
    return {"deleted": n}
