"""The reviewer UI end to end in headless Chromium: sign-in, the queue, blur and reveal,
a decision by keyboard, concurrent decisions, an appeal, and the role rules."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from amparo.store import review_repo
from amparo.store.tables_audit import AuditRecordRow
from review.browser.conftest import screenshot_dir
from review.conftest import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page: Any, site: Any, name: str, password: str = PASSWORD) -> None:
    page.goto(f"{site.url}/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_load_state()


def wait_until(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Poll from Python: Playwright's wait_for_function needs eval, which our CSP forbids."""
    deadline = time.time() + timeout
    while not page.evaluate(expression):
        assert time.time() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.05)


def records(site: Any, action: str) -> list[AuditRecordRow]:
    with site.db.session() as s:
        return list(s.scalars(select(AuditRecordRow).where(AuditRecordRow.action == action)))


def test_sign_in_and_queue_order(site: Any, new_page: Any) -> None:
    page = new_page()
    sign_in(page, site, "rita", "not-the-password")
    assert "Wrong name or password" in page.inner_text("#login-error")
    sign_in(page, site, "rita")
    assert page.url.endswith("/ui/queue")
    order = page.eval_on_selector_all(
        "#queue tbody tr", "rows => rows.map(r => Number(r.dataset.case))"
    )
    c = site.cases
    assert order[:4] == [c["csam_known"], c["csam_suspected"], c["ncii_known"], c["ai_generated"]]
    assert page.inner_text("#who-name") == "rita"
    if (d := screenshot_dir()) is not None:
        page.screenshot(path=str(d / "queue.png"), full_page=True)


def test_media_is_blurred_until_a_recorded_reveal(site: Any, new_page: Any) -> None:
    page = new_page()
    sign_in(page, site, "rob")
    cid = site.cases["csam_known"]
    page.goto(f"{site.url}/cases/{cid}")
    img = page.locator("#media-1")
    img.wait_for()
    wait_until(page, "document.querySelector('#media-1').naturalWidth > 0")
    style = page.evaluate("getComputedStyle(document.querySelector('#media-1')).filter")
    assert "blur" in style and "grayscale" in style
    assert "/preview" in img.get_attribute("src")
    assert "PDQ distance 0" in page.inner_text("#reasons")  # the verdict's reasons are shown
    if (d := screenshot_dir()) is not None:
        page.screenshot(path=str(d / "case.png"), full_page=True)
    before = len(records(site, "evidence.reveal"))
    page.click("#reveal-1")
    wait_until(page, "document.querySelector('#media-1').src.includes('/original?grant=')")
    wait_until(page, "document.querySelector('#media-1').naturalWidth > 0")
    assert "shielded" not in img.get_attribute("class")
    assert page.evaluate("getComputedStyle(document.querySelector('#media-1')).filter") == "none"
    assert page.inner_text("#exposure-count") == "1"
    recs = records(site, "evidence.reveal")
    assert len(recs) == before + 1 and recs[-1].actor == "rob"
    page.click(".hide-again")
    assert "shielded" in img.get_attribute("class") and "/preview" in img.get_attribute("src")


def test_decision_by_keyboard(site: Any, new_page: Any) -> None:
    page = new_page()
    sign_in(page, site, "rita")
    cid = site.cases["ai_generated"]
    page.goto(f"{site.url}/cases/{cid}")
    page.keyboard.press("n")
    assert page.is_checked("#kind-not-violating")
    assert page.evaluate("document.activeElement.id") == "submit-decision"
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/queue?decided=*")
    order = page.eval_on_selector_all(
        "#queue tbody tr", "rows => rows.map(r => Number(r.dataset.case))"
    )
    assert cid not in order
    with site.db.session() as s:
        d = review_repo.list_decisions(s, case_id=cid)
        assert [(x.kind, x.reviewer_id is not None) for x in d] == [("not_violating", True)]


def test_concurrent_decisions_in_two_browsers(site: Any, new_page: Any) -> None:
    a, b = new_page(), new_page()
    sign_in(a, site, "sam")
    sign_in(b, site, "sue")
    cid = site.cases["csam_suspected"]
    a.goto(f"{site.url}/cases/{cid}")
    b.goto(f"{site.url}/cases/{cid}")
    a.check("#kind-confirm")
    a.select_option("#label", "csam_suspected")
    a.check("#act-report")
    a.click("#submit-decision")
    a.wait_for_url("**/ui/queue?decided=*")
    b.check("#kind-not-violating")
    b.click("#submit-decision")
    b.wait_for_load_state()
    assert "already decided" in b.inner_text("#error-message") or "changed" in b.inner_text(
        "#error-message"
    )
    with site.db.session() as s:
        case = review_repo.get_case(s, case_id=cid)
        assert (case.outcome, case.outcome_label, case.report_state) == (
            "confirm",
            "csam_suspected",
            "queued",
        )


def test_appeal_is_decided_by_another_senior_reviewer(site: Any, new_page: Any) -> None:
    cid = site.cases["ncii_known"]
    sam = new_page()
    sign_in(sam, site, "sam")
    sam.goto(f"{site.url}/cases/{cid}")
    sam.keyboard.press("c")
    sam.select_option("#label", "ncii_known")
    sam.click("#submit-decision")
    sam.wait_for_url("**/ui/queue?decided=*")
    rita = new_page()  # a reviewer records the affected user's appeal
    sign_in(rita, site, "rita")
    rita.goto(f"{site.url}/cases/{cid}")
    rita.fill("#appeal-statement", "This is a photo of me that I posted myself.")
    rita.click("#file-appeal")
    rita.wait_for_load_state()
    with site.db.session() as s:
        appeal = review_repo.open_appeal_for_case(s, case_id=cid)
        aid = appeal.id
    sam.goto(f"{site.url}/appeals/{aid}")
    assert "another reviewer must decide" in sam.inner_text("#own-case")
    assert sam.locator("#appeal-decide-form").count() == 0
    sue = new_page()
    sign_in(sue, site, "sue")
    sue.click("#nav-appeals")
    sue.click(f"tr[data-appeal='{aid}'] a.appeal-link")
    assert "photo of me" in sue.inner_text("#appeal-statement")
    sue.check("#outcome-reversed")
    sue.fill("#appeal-note", "consensual self-publication confirmed")
    sue.click("#submit-appeal")
    sue.wait_for_url("**/ui/appeals?decided=*")
    assert sue.inner_text(f"tr[data-appeal='{aid}'] .outcome") == "reversed"
    assert records(site, "appeal.decide")[-1].actor == "sue"


def test_role_rules(site: Any, new_page: Any) -> None:
    otto = new_page()
    sign_in(otto, site, "otto")
    assert otto.url.endswith("/ui/dashboard")
    assert otto.locator("#nav-queue").count() == 0 and otto.locator("#nav-audit").count() == 1
    assert otto.locator("#exposure").count() == 0  # auditors never reveal
    denied_before = len(records(site, "access.denied"))
    resp = otto.goto(f"{site.url}/cases/{site.cases['csam_known']}")
    assert resp.status == 403 and "may not" in otto.inner_text("#error-message")
    assert otto.locator("img").count() == 0
    otto.goto(f"{site.url}/audit")
    assert "Chain intact" in otto.inner_text("#chain-status")
    assert len(records(site, "access.denied")) == denied_before + 1
    rita = new_page()
    sign_in(rita, site, "rita")
    assert rita.locator("#nav-appeals").count() == 0 and rita.locator("#nav-audit").count() == 0
    assert rita.goto(f"{site.url}/audit").status == 403
    assert rita.goto(f"{site.url}/appeals").status == 403
