"""POST /v1/trace: where did this image come from (C2PA, watermark, PDQ against the ledger)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from amparo.api.auth import require
from amparo.api.uploads import read_upload
from amparo.store.keys_repo import ApiPrincipal

router = APIRouter(prefix="/v1", tags=["trace"])


def _tracer(request: Request) -> Any:
    tracer = getattr(request.app.state, "tracer", None)
    if tracer is None:
        from amparo.provenance.trace import Tracer

        tracer = Tracer.for_service(request.app.state.service)
        request.app.state.tracer = tracer
    return tracer


@router.post("/trace", summary="Trace an image to the generation that made it")
async def trace_image(
    request: Request, file: UploadFile = File(...), _: ApiPrincipal = Depends(require("trace"))
) -> dict[str, Any]:
    svc = request.app.state.service
    data = read_upload(file, svc.settings.max_upload_bytes)
    tracer = await run_in_threadpool(_tracer, request)
    result = await run_in_threadpool(tracer.trace, data)
    return result.to_dict()
