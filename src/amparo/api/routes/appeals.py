"""Appeals by the affected user, relayed by the platform: filed against the decision on an item
(by event id, as the user was told) or a case; decided later by a different reviewer in the UI."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from amparo.api.auth import require
from amparo.errors import BadInput, ConfigurationError, NotFound
from amparo.store.keys_repo import ApiPrincipal

router = APIRouter(prefix="/v1/appeals", tags=["appeals"])


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: int | None = None
    case_id: int | None = None
    account: str | None = Field(None, max_length=200)
    statement: str = Field(..., min_length=1, max_length=5000)


def _appeal_out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "case_id": row.case_id,
        "state": row.state,
        "outcome": row.outcome,
        "filed_at": row.filed_at.isoformat() if row.filed_at else None,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
    }


def _cases(request: Request) -> Any:
    cases = request.app.state.service.cases
    if cases is None:
        raise ConfigurationError("the review room is not installed")
    return cases


@router.post("", status_code=201, summary="File an appeal on behalf of the affected user")
def file_appeal(request: Request, body: AppealIn, p: ApiPrincipal = Depends(require("appeals"))) -> dict[str, Any]:
    from amparo.cases.roles import Actor
    from amparo.store.tables_review import CaseItemRow

    cases = _cases(request)
    if (body.event_id is None) == (body.case_id is None):
        raise BadInput("give exactly one of event_id or case_id", code="bad_appeal")
    with request.app.state.service.db.session() as s:
        case_id = body.case_id
        if case_id is None:
            case_id = s.scalar(select(CaseItemRow.case_id).where(CaseItemRow.event_id == body.event_id).limit(1))
            if case_id is None:
                raise NotFound(f"no case for event {body.event_id}")
        row = cases.file_appeal(
            s,
            case_id=case_id,
            statement=body.statement,
            account=body.account,
            actor=Actor(name=f"api:{p.name}", role="system"),
        )
        return _appeal_out(row)


@router.get("/{appeal_id}", summary="An appeal's state and outcome")
def get_appeal(request: Request, appeal_id: int, _: ApiPrincipal = Depends(require("appeals"))) -> dict[str, Any]:
    from amparo.store import review_repo

    _cases(request)
    with request.app.state.service.db.session() as s:
        row = review_repo.get_appeal(s, appeal_id=appeal_id)
        if row is None:
            raise NotFound(f"no appeal {appeal_id}")
        return _appeal_out(row)
