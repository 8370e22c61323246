"""A local stand-in for the DSA Transparency Database API: statement, statements (batch of 1–100) and
existing-puid, with Bearer-token auth, per-platform puid uniqueness, and the database's validation rules
(reports.sor_schema.validate). `fail` makes the next calls answer 503 for fault tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from amparo.reports.sor_schema import MAX_BATCH, validate


@dataclass
class TdbStandIn:
    token: str = "1|standin-token"
    statements: dict[str, dict[str, Any]] = field(default_factory=dict)  # puid -> statement
    fail: int = 0
    posts: int = 0


def build_tdb_app(state: TdbStandIn) -> FastAPI:
    app = FastAPI(title="DSA Transparency Database stand-in")

    @app.middleware("http")
    async def bearer(request: Request, call_next: Any) -> Any:
        if request.headers.get("authorization") != f"Bearer {state.token}":
            return JSONResponse({"message": "Unauthenticated."}, status_code=401)
        if state.fail > 0:
            state.fail -= 1
            return JSONResponse({"message": "Service Unavailable"}, status_code=503)
        return await call_next(request)

    def store(s: dict[str, Any]) -> dict[str, Any]:
        out = {**s, "uuid": str(uuid.uuid4())}
        state.statements[s["puid"]] = out
        return out

    @app.get("/api/v1/statement/existing-puid/{puid}")
    def existing(puid: str) -> JSONResponse:
        if puid in state.statements:
            return JSONResponse({"message": "statement of reason found", "puid": puid}, status_code=302)
        return JSONResponse({"message": "statement of reason not found", "puid": puid}, status_code=404)

    @app.post("/api/v1/statement")
    async def one(request: Request) -> JSONResponse:
        state.posts += 1
        s = await request.json()
        errors = validate(s) if isinstance(s, dict) else {"statement": ["must be an object"]}
        if errors:
            return JSONResponse({"message": "The given data was invalid.", "errors": errors}, status_code=422)
        if s["puid"] in state.statements:
            msg = "The identifier given is not unique within this platform."
            return JSONResponse(
                {"message": msg, "errors": {"puid": [msg]}, "existing": {"puid": s["puid"]}}, status_code=422
            )
        return JSONResponse(store(s), status_code=201)

    @app.post("/api/v1/statements")
    async def many(request: Request) -> JSONResponse:
        state.posts += 1
        body = await request.json()
        items = body.get("statements") if isinstance(body, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
            return JSONResponse(
                {"message": "invalid", "errors": {"statements": [f"must have between 1 and {MAX_BATCH} items"]}},
                status_code=422,
            )
        errors = {}
        for i, s in enumerate(items):
            e = validate(s) if isinstance(s, dict) else {"statement": ["must be an object"]}
            if e:
                errors[f"statement_{i}"] = e
        if errors:
            return JSONResponse({"errors": errors}, status_code=422)
        puids = [s["puid"] for s in items]
        dupes = sorted({p for p in puids if p in state.statements or puids.count(p) > 1})
        if dupes:
            msg = "The platform identifier(s) are not all unique within this call."
            return JSONResponse({"message": msg, "errors": {"puid": [msg], "existing_puids": dupes}}, status_code=422)
        return JSONResponse({"statements": [store(s) for s in items]}, status_code=201)

    return app
