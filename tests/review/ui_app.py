"""A minimal app around the reviewer UI for tests and screenshots, plus seeded benign cases."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI

from amparo.cases.workflow import CaseItemInput
from amparo.ui import build_ui_router
from review.media import draw_landscape

SEED_CASES = [
    # labels, account, text of the reason (benign stand-ins: the images are drawn landscapes)
    (["ai_generated"], "acct-310", "generator metadata says AI-made"),
    (
        ["csam_suspected"],
        "acct-117",
        "stand-in: nudity 0.93 with apparent age 14 (injected scores)",
    ),
    (
        ["ncii_known"],
        "acct-205",
        "PDQ distance 6 to a victim-submitted bank entry (benign stand-in)",
    ),
    (["csam_known"], "acct-042", "PDQ distance 0 to the stand-in known bank"),
]


def make_ui_app(db: Any, review: Any) -> FastAPI:
    app = FastAPI()
    app.include_router(build_ui_router(SimpleNamespace(db=db, review=review)))
    return app


def seed_cases(db: Any, review: Any) -> dict[str, int]:
    """One case per SEED_CASES row; returns label → case id."""
    ids: dict[str, int] = {}
    for n, (labels, account, why) in enumerate(SEED_CASES, start=1):
        with db.session() as s:
            ev = review.vault.capture(s, data=draw_landscape(n), item_id=f"item-{n}", event_id=n)
            case = review.cases.open_case(
                s,
                labels=labels,
                account=account,
                event_id=n,
                title=f"{labels[0]} (upload)",
                reasons=[
                    {
                        "rule": f"{labels[0]}.rule",
                        "label": labels[0],
                        "decision": "block",
                        "description": why,
                        "evidence": {"event": n},
                    }
                ],
                items=[
                    CaseItemInput(
                        item_id=f"item-{n}",
                        event_id=n,
                        evidence_ref=ev.ref,
                        signals=[
                            {"type": "pdq", "value": ev.pdq, "quality": ev.pdq_quality},
                            {"type": "sha256", "value": ev.sha256},
                        ],
                    )
                ],
            )
            ids[labels[0]] = case.id
    return ids
