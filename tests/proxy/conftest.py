"""The proxy over real HTTP: the stand-in generator and the proxy app each on a real port, the
official `openai` client pointed at the proxy. Detectors are stand-ins (POLICY.md); the prompt
gate is the real one, loaded once per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
from conftest import LiveServer, free_port
from standins import StandInDetector, install_standins

from amparo.proxy.ledger import GenerationLedger
from amparo.proxy.standin_generator import StandinControls, build_standin_app
from amparo.settings import Settings

UPSTREAM_KEY = "sk-upstream-DO-NOT-LEAK-0123456789"
SMALL = "256x256"  # smallest size that still carries the watermark: fast tests


@pytest.fixture(scope="session")
def prompt_gate() -> Any:
    from amparo.signals.classifiers.prompt_signal import PromptGateDetector

    return PromptGateDetector()


@pytest.fixture(scope="module")
def standin_server() -> Iterator[tuple[str, StandinControls]]:
    controls = StandinControls()
    with LiveServer(build_standin_app(controls), free_port()) as srv:
        yield srv.url + "/v1", controls


@pytest.fixture
def upstream(standin_server: tuple[str, StandinControls]) -> tuple[str, StandinControls]:
    url, c = standin_server
    c.mode, c.fixed_image, c.delay_s, c.timeout_s = "ok", None, 0.0, 5.0
    c.expected_key = UPSTREAM_KEY
    c.requests.clear()
    return url, c


@dataclass
class Proxy:
    url: str
    client: openai.OpenAI
    service: Any
    ledger: GenerationLedger
    detectors: dict[str, StandInDetector]
    controls: StandinControls
    keys: dict[str, str]

    def generations(self) -> list[Any]:
        from amparo.store.tables_events import GenerationRow

        with self.service.db.session() as s:
            return list(s.query(GenerationRow).order_by(GenerationRow.id))

    def last(self) -> dict[str, Any]:
        rows = self.generations()
        assert rows, "no ledger row"
        rec = self.ledger.get(rows[-1].generation_id)
        assert rec is not None
        return rec


@contextmanager
def running_proxy(
    settings: Settings, upstream: tuple[str, StandinControls], gate: Any, *, timeout_s: float = 2.0
) -> Iterator[Proxy]:
    from amparo.api.factory import build_app
    from amparo.service import Service
    from amparo.store import keys_repo

    url, controls = upstream
    settings.upstream_url = url
    settings.upstream_api_key = UPSTREAM_KEY
    settings.upstream_timeout_seconds = timeout_s
    service = Service(settings)
    service.pipeline._prompt = gate  # the real gate, loaded once per session
    detectors = install_standins(service)
    keys: dict[str, str] = {}
    with service.db.session() as s:
        for role in keys_repo.ROLES:
            _, keys[role] = keys_repo.create_key(s, name=f"test-{role}", role=role)
    try:
        with LiveServer(build_app(service), free_port()) as srv:
            client = openai.OpenAI(base_url=srv.url + "/v1", api_key=keys["submitter"], max_retries=0, timeout=30)
            yield Proxy(
                srv.url,
                client,
                service,
                GenerationLedger.for_service(service),
                detectors,
                controls,
                keys,
            )
    finally:
        service.close()


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'a.db'}",
        detectors="none",
        master_key="11" * 32,
        watermark_key="22" * 32,
        session_secret="s" * 32,
        index_refresh_seconds=0.2,
    )


@pytest.fixture
def proxy(sqlite_settings: Settings, upstream: tuple[str, StandinControls], prompt_gate: Any) -> Iterator[Proxy]:
    with running_proxy(sqlite_settings, upstream, prompt_gate) as p:
        yield p


@pytest.fixture
def start_proxy(upstream: tuple[str, StandinControls], prompt_gate: Any) -> Callable[..., Any]:
    return lambda settings, **kw: running_proxy(settings, upstream, prompt_gate, **kw)


@pytest.fixture
def benign_photo(shared_data: Path) -> bytes:
    return (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
