"""Fixtures of the reports room: a service with a confirmed case whose evidence is preserved, reviewer
actors, and the NCMEC / Transparency Database stand-ins on real ports."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import LiveServer, free_port
from PIL import Image, ImageDraw

from amparo.cases.roles import Actor
from amparo.cases.workflow import CaseItemInput, DecisionInput
from amparo.store import review_repo


def benign_png(seed: int) -> bytes:
    """A drawn landscape (POLICY.md: benign test data only)."""
    rng = random.Random(seed)
    img = Image.new("RGB", (96, 64), (rng.randint(60, 120), rng.randint(120, 180), 230))
    d = ImageDraw.Draw(img)
    d.ellipse([10, 5, 30, 25], fill=(250, 215, 90))
    d.polygon([(0, 64), (40, 30 + rng.randint(0, 10)), (96, 64)], fill=(40, 120, 50))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def make_actor(service: Any, name: str, role: str) -> Actor:
    with service.db.session() as s:
        u = review_repo.insert_user(s, name=name, role=role, password_hash="x")
        return Actor(name=u.name, role=u.role, user_id=u.id)


def confirmed_case(
    service: Any,
    reviewer: Actor,
    *,
    label: str = "csam_suspected",
    reveal: bool = True,
    seed: int = 1,
    ip: str | None = "203.0.113.7",
    account: str = "acct-42",
) -> int:
    """Preserve a benign stand-in file, open a case on it, have a person reveal and confirm it."""
    data = benign_png(seed)
    extra = {"ip": ip, "ip_at": "2026-01-15T07:59:00+00:00"} if ip else {}
    with service.db.session() as s:
        ev = service.vault.capture(
            s,
            data=data,
            item_id=f"item-{seed}",
            profile="us",
            metadata={"context": {"account": account, "source": f"upload-{seed}.png", "extra": extra}},
        )
        ref = ev.ref
        case = service.cases.open_case(
            s,
            labels=[label],
            reasons=[{"rule": "stand-in", "label": label}],
            items=[CaseItemInput(item_id=f"item-{seed}", evidence_ref=ref)],
            account=account,
        )
        case_id, version = case.id, case.version
    if reveal:
        with service.db.session() as s:
            service.vault.read(s, ref=ref, actor=reviewer.name, actor_role=reviewer.role, purpose="review")
    with service.db.session() as s:
        service.cases.decide(
            s,
            case_id=case_id,
            expected_version=version,
            decision=DecisionInput(kind="confirm", label=label, actions=("report",)),
            actor=reviewer,
        )
    return case_id


@pytest.fixture
def ncmec() -> Iterator[tuple[str, Any]]:
    from amparo.reports.ncmec_standin import NcmecStandIn, build_standin_app

    state = NcmecStandIn()
    with LiveServer(build_standin_app(state), free_port()) as srv:
        yield srv.url + "/ispws", state


@pytest.fixture
def tdb() -> Iterator[tuple[str, Any]]:
    from amparo.reports.sor_standin import TdbStandIn, build_tdb_app

    state = TdbStandIn()
    with LiveServer(build_tdb_app(state), free_port()) as srv:
        yield srv.url + "/api/v1", state
