"""Hash, look up and check content."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from amparo.api.auth import require
from amparo.api.schemas import ACCOUNT_MAX, JURISDICTION_MAX, SURFACE_MAX, LookupIn, PromptIn
from amparo.api.uploads import read_upload
from amparo.domain.items import Context, Item
from amparo.domain.signals import Signal
from amparo.store.keys_repo import ApiPrincipal

router = APIRouter(prefix="/v1", tags=["checks"])


def _context(account: str | None, surface: str | None, jurisdiction: str | None, source: str | None) -> Context:
    return Context(account=account, surface=surface, jurisdiction=jurisdiction, source=source)


@router.post("/hash", summary="Hash an uploaded image (PDQ, MD5, SHA-1, SHA-256)")
def hash_upload(
    request: Request, file: UploadFile = File(...), _: ApiPrincipal = Depends(require("hash"))
) -> dict[str, Any]:
    svc = request.app.state.service
    data = read_upload(file, svc.settings.max_upload_bytes)
    decoded = svc.pipeline.decode(data)
    return {"signals": [s.to_dict() for s in svc.pipeline.hash_of_record(decoded, data)]}


@router.post("/lookup", summary="Look hashes up in the enabled banks")
def lookup(request: Request, body: LookupIn, _: ApiPrincipal = Depends(require("lookup"))) -> dict[str, Any]:
    svc = request.app.state.service
    signals = []
    for s in body.signals:
        hasher = svc.signals.get(s.type)
        signals.append(Signal(hasher.name, hasher.normalise(s.value)))
    res = svc.matcher.lookup(signals, banks=body.banks)
    return {
        "matches": [m.to_dict() for m in res.matches],
        "suppressed": [m.to_dict() for m in res.suppressed],
        "safe_matches": [m.to_dict() for m in res.negatives],
    }


@router.post("/check", summary="Check an uploaded image: signals → matches → verdict → recorded event")
def check_image(
    request: Request,
    file: UploadFile = File(...),
    account: str | None = Form(None, max_length=ACCOUNT_MAX),
    surface: str | None = Form(None, max_length=SURFACE_MAX),
    jurisdiction: str | None = Form(None, max_length=JURISDICTION_MAX),
    _: ApiPrincipal = Depends(require("check")),
) -> dict[str, Any]:
    svc = request.app.state.service
    data = read_upload(file, svc.settings.max_upload_bytes)
    item = Item.from_image(data, _context(account, surface or "upload", jurisdiction, file.filename))
    return svc.pipeline.check(item).to_dict()


@router.post("/check/prompt", summary="Check a generation prompt with the request gate")
def check_prompt(request: Request, body: PromptIn, _: ApiPrincipal = Depends(require("check"))) -> dict[str, Any]:
    svc = request.app.state.service
    item = Item.from_prompt(body.prompt, _context(body.account, body.surface or "generation", body.jurisdiction, None))
    return svc.pipeline.check(item).to_dict()


@router.post("/check/edit", summary="Check an edit request: prompt plus the input image, decided together")
def check_edit(
    request: Request,
    prompt: str = Form(...),
    file: UploadFile = File(...),
    account: str | None = Form(None, max_length=ACCOUNT_MAX),
    jurisdiction: str | None = Form(None, max_length=JURISDICTION_MAX),
    _: ApiPrincipal = Depends(require("check")),
) -> dict[str, Any]:
    svc = request.app.state.service
    data = read_upload(file, svc.settings.max_upload_bytes)
    item = Item.from_edit(prompt, data, _context(account, "edit", jurisdiction, file.filename))
    return svc.pipeline.check(item).to_dict()
