"""Bank and entry management."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Request, UploadFile
from fastapi.responses import StreamingResponse

from amparo.api.auth import require
from amparo.api.schemas import BankIn, BankOut, BankPatch, EntriesIn, EntryPatch
from amparo.api.uploads import read_upload
from amparo.banks import management as bm
from amparo.banks.management import api_acting, entries_from_image, export_bank, import_text
from amparo.errors import BadInput
from amparo.store import banks_repo
from amparo.store.banks_repo import NewEntry
from amparo.store.keys_repo import ApiPrincipal
from amparo.store.tables import BankEntryRow, BankRow

router = APIRouter(prefix="/v1/banks", tags=["banks"])


def bank_out(b: BankRow, entries: int | None = None) -> BankOut:
    return BankOut(
        name=b.name,
        category=b.category,
        source=b.source,
        description=b.description,
        enabled=b.enabled,
        negative=b.negative,
        pdq_threshold=b.pdq_threshold,
        entries=entries,
    )


def entry_out(e: BankEntryRow) -> dict[str, Any]:
    return {
        "id": e.id,
        "signal_type": e.signal_type,
        "value": e.value,
        "opinion": e.opinion,
        "enabled": e.enabled,
        "note": e.note,
        "external_id": e.external_id,
        "metadata": e.entry_metadata,
        "created_at": e.created_at.isoformat() if e.created_at else None,
    }


@router.get("", response_model=list[BankOut])
def list_banks(request: Request, _: ApiPrincipal = Depends(require("banks.read"))) -> list[BankOut]:
    with request.app.state.service.db.session() as s:
        return [bank_out(b, banks_repo.count_entries(s, bank_id=b.id)) for b in banks_repo.list_banks(s)]


@router.post("", response_model=BankOut, status_code=201)
def create_bank(request: Request, body: BankIn, p: ApiPrincipal = Depends(require("banks.write"))) -> BankOut:
    with request.app.state.service.db.session() as s:
        svc = request.app.state.service
        return bank_out(bm.create_bank(s, api_acting(svc.audit, p), **body.model_dump()), 0)


@router.get("/{name}", response_model=BankOut)
def get_bank(request: Request, name: str, _: ApiPrincipal = Depends(require("banks.read"))) -> BankOut:
    with request.app.state.service.db.session() as s:
        b = banks_repo.get_bank(s, name=name)
        return bank_out(b, banks_repo.count_entries(s, bank_id=b.id))


@router.patch("/{name}", response_model=BankOut)
def update_bank(
    request: Request, name: str, body: BankPatch, p: ApiPrincipal = Depends(require("banks.write"))
) -> BankOut:
    fields = body.model_dump(exclude_none=True)
    if "name" in fields:
        fields["new_name"] = fields.pop("name")
    with request.app.state.service.db.session() as s:
        return bank_out(bm.update_bank(s, api_acting(request.app.state.service.audit, p), name=name, **fields))


@router.delete("/{name}")
def delete_bank(request: Request, name: str, p: ApiPrincipal = Depends(require("banks.write"))) -> dict[str, Any]:
    with request.app.state.service.db.session() as s:
        n = bm.delete_bank(s, api_acting(request.app.state.service.audit, p), name=name)
    request.app.state.service.matcher.refresh()
    return {"deleted": name, "entries_removed": n}


@router.get("/{name}/entries")
def list_entries(
    request: Request, name: str, after_id: int = 0, limit: int = 100, _: ApiPrincipal = Depends(require("banks.read"))
) -> dict[str, Any]:
    limit = max(1, min(limit, 1000))
    with request.app.state.service.db.session() as s:
        b = banks_repo.get_bank(s, name=name)
        rows = banks_repo.list_entries(s, bank_id=b.id, after_id=after_id, limit=limit)
        return {"entries": [entry_out(e) for e in rows], "next_after_id": rows[-1].id if len(rows) == limit else None}


@router.post("/{name}/entries", status_code=201, summary="Add raw hashes")
def add_entries(
    request: Request, name: str, body: EntriesIn, p: ApiPrincipal = Depends(require("banks.write"))
) -> dict[str, Any]:
    svc = request.app.state.service
    entries = []
    for i, e in enumerate(body.entries):
        try:
            hasher = svc.signals.get(e.signal_type)
            value = hasher.normalise(e.value)
        except BadInput as err:
            raise BadInput(f"entries[{i}]: {err.message}", code=err.code) from None
        entries.append(NewEntry(hasher.name, value, e.opinion, e.note, e.external_id, e.metadata))
    with svc.db.session() as s:
        ids = bm.add_entries(s, api_acting(svc.audit, p), bank=name, entries=entries)
    svc.matcher.refresh()
    return {"ids": ids}


@router.post("/{name}/entries/upload", status_code=201, summary="Hash an uploaded image into the bank")
def add_from_upload(
    request: Request,
    name: str,
    file: UploadFile = File(...),
    opinion: Literal["positive", "negative", "disputed"] = Form("positive"),
    note: str | None = Form(None),
    p: ApiPrincipal = Depends(require("banks.write")),
) -> dict[str, Any]:
    svc = request.app.state.service
    data = read_upload(file, svc.settings.max_upload_bytes)
    entries = entries_from_image(
        svc.pipeline, data, opinion=opinion, note=note, quality_floor=svc.settings.pdq_quality_floor
    )
    with svc.db.session() as s:
        ids = bm.add_entries(s, api_acting(svc.audit, p), bank=name, entries=entries, via="upload")
    svc.matcher.refresh()
    return {"ids": ids, "signals": [{"type": e.signal_type, "value": e.value} for e in entries]}


@router.patch("/{name}/entries/{entry_id}")
def update_entry(
    request: Request, name: str, entry_id: int, body: EntryPatch, p: ApiPrincipal = Depends(require("banks.write"))
) -> dict[str, Any]:
    svc = request.app.state.service
    with svc.db.session() as s:
        who = api_acting(svc.audit, p)
        return entry_out(bm.update_entry(s, who, bank=name, entry_id=entry_id, **body.model_dump(exclude_none=True)))


@router.delete("/{name}/entries/{entry_id}")
def delete_entry(
    request: Request, name: str, entry_id: int, p: ApiPrincipal = Depends(require("banks.write"))
) -> dict[str, Any]:
    svc = request.app.state.service
    with svc.db.session() as s:
        n = bm.remove_entries(s, api_acting(svc.audit, p), bank=name, entry_ids=[entry_id])
    svc.matcher.refresh()
    return {"deleted": n}


@router.post("/{name}/import", summary="Import a CSV or python-threatexchange signal file")
def import_file(
    request: Request,
    name: str,
    text: str = Body(..., media_type="text/plain"),
    format: Literal["csv", "pytx", "lines"] = "csv",
    signal_type: str | None = None,
    opinion: Literal["positive", "negative", "disputed"] = "positive",
    p: ApiPrincipal = Depends(require("banks.write")),
) -> dict[str, Any]:
    svc = request.app.state.service
    out = import_text(
        svc.db,
        svc.pipeline,
        api_acting(svc.audit, p),
        bank=name,
        text=text,
        fmt=format,
        signal_type=signal_type,
        opinion=opinion,
    )
    svc.matcher.refresh()
    return out


@router.get("/{name}/export", summary="Export a bank as CSV or a python-threatexchange signal file")
def export_file(
    request: Request,
    name: str,
    format: Literal["csv", "pytx", "lines"] = "csv",
    p: ApiPrincipal = Depends(require("banks.read")),
) -> StreamingResponse:
    svc = request.app.state.service
    bm.record_export(svc.db, api_acting(svc.audit, p), bank=name, fmt=format)  # 404 before streaming starts
    media = "text/csv" if format == "csv" else "text/plain"
    return StreamingResponse(export_bank(svc.db, bank=name, fmt=format), media_type=media)
