"""A real uvicorn server with the reviewer UI on 127.0.0.1 and a real headless Chromium
(Debian's /usr/bin/chromium driven by Playwright; `playwright install` is never run)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from amparo.cases import build_review_components
from amparo.settings import Settings
from amparo.store import review_repo, schema  # noqa: F401
from amparo.store.database import Database
from review.conftest import password_hash
from review.ui_app import make_ui_app, seed_cases

CHROMIUM = os.environ.get("AMPARO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USERS = [
    ("rita", "reviewer"),
    ("rob", "reviewer"),
    ("sam", "senior_reviewer"),
    ("sue", "senior_reviewer"),
    ("ada", "admin"),
    ("otto", "auditor"),
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    import uvicorn

    data = tmp_path_factory.mktemp("browser")
    settings = Settings(
        environment="test",
        data_dir=data,
        database_url=f"sqlite:///{data / 'amparo.db'}",
        master_key="11" * 32,
        session_secret="s" * 32,
        detectors="none",
    )
    db = Database(settings.resolved_database_url)
    db.migrate()
    review = build_review_components(settings, db)
    with db.session() as s:
        for name, role in USERS:
            review_repo.insert_user(s, name=name, role=role, password_hash=password_hash())
    cases = seed_cases(db, review)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(make_ui_app(db, review), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        assert time.time() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}/ui", db=db, review=review, cases=cases)
    server.should_exit = True
    thread.join(timeout=10)
    db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI must run the browser tests: Debian chromium is missing (scripts/setup_browser.sh)")
        pytest.skip("Debian chromium not installed (scripts/setup_browser.sh)")
    import playwright.sync_api as playwright  # a dev dependency
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """new_page() → a page in a fresh context (own cookies), 1280x900."""
    contexts: list[Any] = []

    def make() -> Any:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for c in contexts:
        c.close()


def screenshot_dir() -> Path | None:
    d = os.environ.get("AMPARO_SCREENSHOTS_DIR")
    return Path(d) if d else None
