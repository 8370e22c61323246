"""The reports pages in a real headless Chromium against the full app: the queue with a failed report and
its retry, the transparency figures, legal holds and deletions; role rules over plain HTTP."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import IN_CI, LiveServer, free_port
from review.browser.conftest import CHROMIUM, CHROMIUM_ARGS, screenshot_dir
from review.conftest import PASSWORD, password_hash

from amparo.cases.roles import Actor
from amparo.cases.workflow import DecisionInput
from amparo.store import review_repo
from reports.conftest import confirmed_case
from reports.synth import add_event


def _user(service: Any, name: str, role: str) -> Actor:
    with service.db.session() as s:
        u = review_repo.insert_user(s, name=name, role=role, password_hash=password_hash())
        return Actor(name=u.name, role=u.role, user_id=u.id)


@pytest.fixture
def site(service: Any, ncmec: tuple[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    from amparo.api.factory import build_app

    monkeypatch.setenv("AMPARO_NCMEC_URL", "http://127.0.0.1:9/ispws")
    monkeypatch.setenv("AMPARO_NCMEC_USERNAME", "esp")
    monkeypatch.setenv("AMPARO_NCMEC_PASSWORD", "secret")
    monkeypatch.setenv("AMPARO_NCMEC_REPORTER_EMAIL", "tns@platform.example")
    monkeypatch.setenv("AMPARO_NCMEC_ATTEMPTS", "1")
    rita = _user(service, "rita", "reviewer")
    _user(service, "ada", "admin")
    _user(service, "otto", "auditor")
    confirmed_case(service, rita, seed=1)
    doomed = confirmed_case(service, rita, seed=2, label="csam_known", account="acct-7")
    now = datetime.now(UTC)
    with service.db.session() as s:  # a year of decisions for the transparency page
        for i in range(60):
            add_event(s, decision=("block", "refuse", "age_restrict", "label")[i % 4],
                      labels=[("csam_known", "nudify_request", "minor_present", "adult_explicit")[i % 4]],
                      at=now - timedelta(days=i * 5), matched=i % 5 == 0)  # fmt: skip
        reviewed = [add_event(s, decision="block", labels=["sexual_deepfake"], at=now - timedelta(days=3))
                    for _ in range(12)]  # fmt: skip
    for n, eid in enumerate(reviewed):
        with service.db.session() as s:
            c = service.cases.open_case(s, labels=["sexual_deepfake"], reasons=[], items=[], event_id=eid)
            cid, ver = c.id, c.version
        with service.db.session() as s:
            d = DecisionInput("confirm", "sexual_deepfake") if n % 4 else DecisionInput("not_violating")
            service.cases.decide(s, case_id=cid, expected_version=ver, decision=d, actor=rita)
    from amparo.reports.service import build_reports

    build_reports(service).queue.process()  # NCMEC unreachable: the reports stay queued with the error
    with service.db.session() as s:  # one deletion for the deletions page
        from amparo.store import evidence_repo

        ev = service.vault.capture(s, data=b"benign text evidence", item_id="to-delete", media_type="text/plain")
        ref = ev.ref
    with service.db.session() as s:
        service.vault.delete(s, ref=ref, actor="ada", actor_role="admin", reason="retention ended (test)")
        assert evidence_repo.get_tombstone(s, ref=ref) is not None
    monkeypatch.setenv("AMPARO_NCMEC_URL", ncmec[0])
    with LiveServer(build_app(service), free_port()) as srv:
        yield srv.url + "/ui", doomed


@contextlib.contextmanager
def _session(base: str, name: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=20, follow_redirects=False) as c:
        page = c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        data = {"name": name, "password": PASSWORD}
        if token:
            data["csrf_token"] = token.group(1)
        r = c.post("/login", data=data)
        assert r.status_code == 303, r.text
        yield c


def test_role_rules_and_retry_over_http(site: Any) -> None:
    base, _ = site
    with _session(base, "rita") as c:
        assert c.get("/reports").status_code == 403
        assert c.get("/transparency").status_code == 403
    with _session(base, "otto") as c:
        page = c.get("/reports")
        assert page.status_code == 200 and "ConnectError" in page.text and "Retry" not in page.text
        assert "restrictions = statements of reasons" in c.get("/transparency").text
        assert c.get("/transparency?start=2026-13-01").status_code == 400
        assert c.get("/holds").status_code == 200 and c.get("/deletions").status_code == 200
    with _session(base, "ada") as c:
        page = c.get("/reports")
        rid = re.search(r'data-report="(\d+)" data-status="queued"', page.text).group(1)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        assert c.post(f"/reports/{rid}/retry", data={"csrf_token": "bad"}).status_code == 403
        r = c.post(f"/reports/{rid}/retry", data={"csrf_token": csrf})
        assert r.status_code == 303 and "outcome=sent" in r.headers["location"]
        holds = c.get("/holds").text
        assert "NCMEC CyberTipline report" in holds
        hid = re.search(r'data-hold="(\d+)"', holds).group(1)
        assert c.post(f"/holds/{hid}/release", data={"csrf_token": csrf, "reason": ""}).status_code == 400
        assert c.post(f"/holds/{hid}/release", data={"csrf_token": csrf, "reason": "order lifted"}).status_code == 303


@pytest.mark.browser
def test_pages_in_a_browser(site: Any) -> None:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("CI must run the browser tests: Debian chromium is missing (scripts/setup_browser.sh)")
        pytest.skip("Debian chromium not installed")
    import playwright.sync_api as playwright

    base, _ = site
    shots = screenshot_dir()
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = b.new_context(viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        page.goto(f"{base}/login")
        page.fill("#name", "ada")
        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        page.wait_for_load_state()
        page.click("#nav-reports")
        assert page.locator("tr[data-status='queued']").count() >= 1
        assert "ConnectError" in page.inner_text("#reports")
        if shots:
            page.screenshot(path=str(shots / "reports.png"), full_page=True)
        page.locator("tr[data-status='queued'] button.retry").first.click()
        page.wait_for_load_state()
        assert page.locator("tr[data-status='sent']").count() >= 1
        page.click("#nav-transparency")
        assert int(page.inner_text("#tr-total")) == 72
        assert page.locator("svg.chart rect").count() >= 3
        if shots:
            page.screenshot(path=str(shots / "transparency.png"), full_page=True)
        page.click("#nav-holds")
        assert page.locator("tr[data-hold]").count() >= 1
        if shots:
            page.screenshot(path=str(shots / "holds.png"), full_page=True)
        page.click("#nav-deletions")
        assert "retention ended (test)" in page.inner_text("#deletions")
        if shots:
            page.screenshot(path=str(shots / "deletions.png"), full_page=True)
        b.close()
    assert os.environ.get("AMPARO_SCREENSHOTS_DIR") is None or (shots and (shots / "reports.png").exists())
