"""The reviewer UI over HTTP: headers, CSRF, sessions, rate limit, roles, reveal and limits."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from amparo.store.tables_audit import AuditRecordRow
from amparo.store.tables_review import UiSessionRow
from review.conftest import PASSWORD
from review.media import draw_landscape
from review.ui_app import make_ui_app, seed_cases

# HTTP behaviour, not storage: SQLite only (the storage paths run on both in the other files).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    page = client.get("/ui/login")
    token = CSRF_RE.search(page.text).group(1)
    return client.post(
        "/ui/login",
        data={"name": name, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def csrf_of(client: TestClient, path: str) -> str:
    return CSRF_RE.search(client.get(path).text).group(1)


@pytest.fixture
def app(db: Any, review: Any, people: Any) -> Any:
    return make_ui_app(db, review)


@pytest.fixture
def cases(db: Any, review: Any) -> dict[str, int]:
    return seed_cases(db, review)


def audit_actions(db: Any) -> list[str]:
    with db.session() as s:
        return [r.action for r in s.scalars(select(AuditRecordRow).order_by(AuditRecordRow.seq))]


def test_security_headers_and_cookies(app: Any) -> None:
    c = TestClient(app)
    r = c.get("/ui/login")
    h = r.headers
    assert (
        "frame-ancestors 'none'" in h["content-security-policy"]
        and "script-src 'self'" in h["content-security-policy"]
    )
    assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer" and "strict-transport-security" not in h
    assert (
        TestClient(app, base_url="https://testserver")
        .get("/ui/login")
        .headers["strict-transport-security"]
    )
    r = sign_in(c, "rita")
    assert r.status_code == 303
    cookies = r.headers.get_list("set-cookie")
    session = next(x for x in cookies if x.startswith("amparo_session="))
    assert "HttpOnly" in session and "SameSite=strict" in session.replace("Strict", "strict")
    assert any(x.startswith("amparo_csrf=") and "HttpOnly" not in x for x in cookies)
    assert c.get("/ui/queue").status_code == 200


def test_csrf_is_required_and_bound_to_the_session(app: Any, cases: Any, db: Any) -> None:
    c = TestClient(app)
    c2 = TestClient(app)
    sign_in(c, "rita")
    sign_in(c2, "rob")
    cid = cases["ai_generated"]
    good = csrf_of(c, f"/ui/cases/{cid}")
    other = csrf_of(c2, f"/ui/cases/{cid}")
    form = {"version": "1", "kind": "not_violating"}
    assert c.post(f"/ui/cases/{cid}/decide", data=form).status_code == 403
    assert c.post(f"/ui/cases/{cid}/decide", data={**form, "csrf_token": other}).status_code == 403
    c.cookies.set("amparo_csrf", other, path="/ui")  # both halves from another session
    assert c.post(f"/ui/cases/{cid}/decide", data={**form, "csrf_token": other}).status_code == 403
    c.cookies.set("amparo_csrf", good, path="/ui")
    r = c.post(f"/ui/cases/{cid}/decide", data={**form, "csrf_token": good}, follow_redirects=False)
    assert r.status_code == 303
    # the login form has its own token
    assert (
        TestClient(app).post("/ui/login", data={"name": "rita", "password": PASSWORD}).status_code
        == 403
    )


def test_sign_in_failures_are_rate_limited(app: Any, db: Any) -> None:
    c = TestClient(app)
    for _ in range(5):
        assert sign_in(c, "rita", "wrong-password-123").status_code == 401
    r = sign_in(c, "rita")  # right password, but too many failures just now
    assert r.status_code == 429
    acts = audit_actions(db)
    assert acts.count("auth.sign_in_failed") == 5 and "auth.rate_limited" in acts


def test_wrong_role_gets_403_and_an_audit_record(
    app: Any, cases: Any, db: Any, review: Any
) -> None:
    auditor = TestClient(app)
    assert sign_in(auditor, "otto").headers["location"].endswith("/dashboard")
    cid = cases["csam_known"]
    with db.session() as s:
        from amparo.store import review_repo

        ref = review_repo.list_case_items(s, case_id=cid)[0].evidence_ref
    for path in ("/ui/queue", f"/ui/cases/{cid}", f"/ui/evidence/{ref}/preview", "/ui/appeals"):
        r = auditor.get(path)
        assert r.status_code == 403, path
        assert b"image" not in r.headers.get("content-type", "").encode()
    assert auditor.get("/ui/dashboard").status_code == 200
    page = auditor.get("/ui/audit")
    assert page.status_code == 200 and "Chain intact" in page.text
    reviewer = TestClient(app)
    sign_in(reviewer, "rita")
    assert reviewer.get("/ui/audit").status_code == 403
    assert reviewer.get("/ui/appeals").status_code == 403
    with db.session() as s:
        denied = list(
            s.scalars(select(AuditRecordRow).where(AuditRecordRow.action == "access.denied"))
        )
    assert {d.actor for d in denied} == {"otto", "rita"} and len(denied) == 6


def test_reveal_is_deliberate_recorded_and_limited(
    db: Any, review: Any, people: Any, cases: Any
) -> None:
    app = make_ui_app(db, replace(review, config=replace(review.config, exposure_daily_limit=2)))
    c = TestClient(app)
    sign_in(c, "rita")
    from amparo.store import review_repo

    with db.session() as s:
        refs = [
            review_repo.list_case_items(s, case_id=i)[0].evidence_ref
            for i in sorted(cases.values())
        ]
    preview = c.get(f"/ui/evidence/{refs[0]}/preview")
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    assert preview.content != draw_landscape(1)
    assert c.get(f"/ui/evidence/{refs[0]}/original").status_code == 403  # no grant: reveal first
    token = csrf_of(c, f"/ui/cases/{cases['ai_generated']}")
    hdr = {"accept": "application/json", "x-csrf-token": token}
    r = c.post(f"/ui/evidence/{refs[0]}/reveal", headers=hdr)
    assert r.status_code == 200 and r.json()["exposure"] == 1
    img = c.get(r.json()["url"])
    assert img.status_code == 200 and img.content == draw_landscape(1)
    # a grant is bound to its user
    rob = TestClient(app)
    sign_in(rob, "rob")
    assert rob.get(r.json()["url"]).status_code == 403
    assert c.post(f"/ui/evidence/{refs[1]}/reveal", headers=hdr).json()["exposure"] == 2
    r = c.post(f"/ui/evidence/{refs[2]}/reveal", headers=hdr)
    assert r.status_code == 429 and "limit" in r.json()["message"]
    acts = audit_actions(db)
    assert acts.count("evidence.reveal") == 2 and acts.count("evidence.reveal_refused") == 1
    assert "evidence.preview" in acts and "key.used" in acts


def test_idle_session_expires_and_sign_out_revokes(app: Any, db: Any) -> None:
    c = TestClient(app)
    sign_in(c, "rita")
    assert c.get("/ui/queue").status_code == 200
    with db.session() as s:
        s.execute(update(UiSessionRow).values(last_seen_at=datetime.now(UTC) - timedelta(hours=3)))
    r = c.get("/ui/queue", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/ui/login")
    sign_in(c, "rita")
    token = csrf_of(c, "/ui/queue")
    c.post("/ui/logout", data={"csrf_token": token})
    assert c.get("/ui/queue", follow_redirects=False).status_code == 303
    with db.session() as s:
        assert all(r.revoked_at is not None for r in s.scalars(select(UiSessionRow)))


def test_ui_is_mounted_by_the_full_app(service: Any) -> None:
    from amparo.api.factory import build_app

    r = TestClient(build_app(service)).get("/ui/login")
    assert r.status_code == 200 and "Sign in" in r.text and r.headers["x-frame-options"] == "DENY"


def test_audit_page_verifies_incrementally(app: Any, db: Any, review: Any) -> None:
    """The page walks only the records after the last verified head (issue 14 finding 9); the
    marker it keeps is MAC'd, so a forged one is ignored."""
    from sqlalchemy import text as sql

    from amparo.integrity.mac import RowSealer
    from amparo.store import integrity_marker

    sealer = RowSealer(b"k" * 32)
    db.install_sealer(sealer, migrated=True)
    auditor = TestClient(app)
    sign_in(auditor, "otto")
    first = auditor.get("/ui/audit").text
    assert "Chain intact" in first and "records checked" in first
    with db.session() as s:
        marked = integrity_marker.read(s, sealer)
    assert marked is not None
    for i in range(3):
        with db.session() as s:
            review.audit.record(
                s, action="case.decide", subject_type="case", subject_id=i, actor="x", actor_role="reviewer"
            )
    second = auditor.get("/ui/audit").text
    assert "Chain intact" in second and f"the {marked[0]} before them at an earlier check" in second
    with db.engine.begin() as c:  # someone moves the marker forward without the key
        c.execute(sql("UPDATE integrity_heads SET row_count = row_count + 50 WHERE table_name LIKE 'marker:%'"))
    with db.session() as s:
        assert integrity_marker.read(s, sealer) is None
