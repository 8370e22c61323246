"""The full app (build_app) on a real port with a real headless Chromium (Debian's /usr/bin/chromium
driven by Playwright, as tests/review/browser), for the /protect page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from review.browser.conftest import browser  # noqa: F401  (the shared Chromium fixture)

pytestmark = pytest.mark.browser
POW_BITS = 8


@pytest.fixture(scope="module")
def protect_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    from conftest import LiveServer, free_port, make_settings

    from amparo.api.factory import build_app
    from amparo.service import Service
    from amparo.store import keys_repo

    old = os.environ.get("AMPARO_PROTECT_POW_BITS")
    os.environ["AMPARO_PROTECT_POW_BITS"] = str(POW_BITS)
    tmp: Path = tmp_path_factory.mktemp("protect")
    service = Service(make_settings(tmp, f"sqlite:///{tmp / 'amparo.db'}"))
    try:
        with service.db.session() as s:
            _, key = keys_repo.create_key(s, name="test-submitter", role="submitter")
        with LiveServer(build_app(service), free_port()) as srv:
            yield SimpleNamespace(url=srv.url, service=service, key=key)
    finally:
        service.close()
        if old is None:
            os.environ.pop("AMPARO_PROTECT_POW_BITS", None)
        else:
            os.environ["AMPARO_PROTECT_POW_BITS"] = old


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


HARNESS = b"<!doctype html><meta charset=utf-8><title>worker harness</title>"


@pytest.fixture(scope="module")
def data_server(protect_site: SimpleNamespace) -> Iterator[SimpleNamespace]:
    """A plain local HTTP server for the worker harness: a blank page, the worker script exactly as
    the app serves it, and the test bytes (Playwright's route.fulfill is too slow for tens of
    megabytes of pixels). The harness talks to the worker directly, without the page's CSP."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import httpx

    worker = httpx.get(f"{protect_site.url}/protect/static/protect-worker.js", timeout=30)
    assert worker.status_code == 200
    files: dict[str, bytes] = {"": HARNESS, "protect-worker.js": worker.content}
    types = {"": "text/html", "protect-worker.js": "text/javascript"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = files.get(self.path.lstrip("/"))
            self.send_response(200 if body is not None else 404)
            name = self.path.lstrip("/")
            self.send_header("Content-Type", types.get(name, "application/octet-stream"))
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{srv.server_address[1]}", files=files)
    srv.shutdown()
    srv.server_close()
