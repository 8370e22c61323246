"""Fixtures for the exchange tests: live stand-in partner servers and an exchange-ready service."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import LiveServer, free_port

from exchanges.partner_standins import (
    NCMECState,
    StopNCIIState,
    ThreatExchangeState,
    ncmec_app,
    stopncii_app,
    threatexchange_app,
)


def rand_pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def rand_md5(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


@pytest.fixture
def who(service):  # type: ignore[no-untyped-def]
    from amparo.banks.management import Acting

    return Acting(service.audit, "test:admin", "admin")


@pytest.fixture
def stopncii(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, StopNCIIState]]:
    state = StopNCIIState()
    monkeypatch.setenv("T_STOPNCII_SUB", state.subscription_key)
    monkeypatch.setenv("T_STOPNCII_FETCH", state.function_keys["FetchHashes"])
    monkeypatch.setenv("T_STOPNCII_SUBMIT", state.function_keys["SubmitHashes"])
    monkeypatch.setenv("T_STOPNCII_FB", state.function_keys["SubmitFeedback"])
    with LiveServer(stopncii_app(state), free_port()) as srv:
        yield srv.url + "/v1", state


STOPNCII_CONFIG: dict[str, Any] = {
    "subscription_key_env": "T_STOPNCII_SUB",
    "fetch_key_env": "T_STOPNCII_FETCH",
    "submit_key_env": "T_STOPNCII_SUBMIT",
    "feedback_key_env": "T_STOPNCII_FB",
    "page_size": 10,
}


@pytest.fixture
def ncmec(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, NCMECState]]:
    state = NCMECState(page_size=4)
    monkeypatch.setenv("T_NCMEC_USER", state.username)
    monkeypatch.setenv("T_NCMEC_PASS", state.password)
    with LiveServer(ncmec_app(state), free_port()) as srv:
        yield srv.url, state


@pytest.fixture
def threatexchange(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, ThreatExchangeState]]:
    state = ThreatExchangeState()
    monkeypatch.setenv("T_TE_TOKEN", state.token)
    ref: list[str] = [""]
    with LiveServer(threatexchange_app(state, ref), free_port()) as srv:
        ref[0] = srv.url + "/v26.0"
        yield ref[0], state
