"""A live Amparo for the HMA-compatibility suite: real HTTP, SQLite and PostgreSQL, `?url=` fetching
turned on for a local file server only (through the test-only loopback setting)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, free_port, make_settings


@dataclass
class Hma:
    url: str
    keys: dict[str, str]
    client: httpx.Client
    media: str  # base URL of the local media server

    def as_role(self, role: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=("hma", self.keys[role]), timeout=60)


@pytest.fixture(scope="session")
def media_server(shared_data: Path) -> Iterator[str]:
    """Serves the benign bridge photos (and a text file) over HTTP on 127.0.0.1."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(shared_data / "pdq"))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def hma(tmp_path: Path, database_url: str, media_server: str) -> Iterator[Hma]:
    from amparo.api.factory import build_app
    from amparo.service import Service
    from amparo.store import keys_repo

    settings = make_settings(tmp_path, database_url).model_copy(
        update={
            "url_fetch_enabled": True,
            "url_fetch_allowed_hosts": "127.0.0.1",
            "url_fetch_allow_loopback_for_tests": True,
        }
    )
    svc = Service(settings)
    keys = {}
    with svc.db.session() as s:
        for role in keys_repo.ROLES:
            _, keys[role] = keys_repo.create_key(s, name=f"hma-{role}", role=role)
    try:
        with (
            LiveServer(build_app(svc), free_port()) as srv,
            httpx.Client(base_url=srv.url, auth=("hma", keys["admin"]), timeout=60) as c,
        ):
            yield Hma(srv.url, keys, c, media_server)
    finally:
        svc.close()
