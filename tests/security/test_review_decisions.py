"""Finding 3 (a senior reviewer could post a bank_id the form does not offer, e.g. the negative SAFE
bank, whitelisting known material) and finding 10 (a reviewer could decide a case assigned to someone
else; the sign-in limit could be raced and used to lock a reviewer out)."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from review.conftest import PASSWORD, db, people, review  # noqa: F401  (fixtures)
from review.ui_app import make_ui_app, seed_cases
from sqlalchemy import select

from amparo.store import banks_repo, review_repo
from amparo.store.tables_audit import AuditRecordRow

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    token = CSRF_RE.search(client.get("/ui/login").text).group(1)  # type: ignore[union-attr]
    return client.post(
        "/ui/login", data={"name": name, "password": password, "csrf_token": token}, follow_redirects=False
    )


def client_at(app: Any, ip: str) -> TestClient:
    return TestClient(app, client=(ip, 40000))


def decide(client: TestClient, case_id: int, **form: Any) -> Any:
    page = client.get(f"/ui/cases/{case_id}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
    return client.post(
        f"/ui/cases/{case_id}/decide",
        data={"version": version, "csrf_token": token, **form},
        follow_redirects=False,
    )


def audit(db: Any, action: str) -> list[AuditRecordRow]:  # noqa: F811
    with db.session() as s:
        return list(s.scalars(select(AuditRecordRow).where(AuditRecordRow.action == action)))


@pytest.fixture
def app(db, review, people):  # type: ignore[no-untyped-def]  # noqa: F811
    return make_ui_app(db, review)


@pytest.fixture
def banks(db) -> dict[str, int]:  # type: ignore[no-untyped-def]  # noqa: F811
    with db.session() as s:
        return {
            "safe": banks_repo.create_bank(s, name="SAFE", category="other", negative=True).id,
            "csam": banks_repo.create_bank(s, name="STANDIN_CSAM", category="csam").id,
            "ncii": banks_repo.create_bank(s, name="STANDIN_NCII", category="ncii").id,
            "off": banks_repo.create_bank(s, name="OFF_CSAM", category="csam", enabled=False).id,
        }


def _entries(db: Any, bank_id: int) -> int:  # noqa: F811
    with db.session() as s:
        return banks_repo.count_entries(s, bank_id=bank_id)


def test_a_bank_the_form_does_not_offer_is_refused_and_nothing_changes(app, db, review, banks) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    cid = seed_cases(db, review)["csam_known"]
    sam = client_at(app, "10.0.0.1")
    assert sign_in(sam, "sam").status_code == 303
    page = sam.get(f"/ui/cases/{cid}").text
    assert f'<option value="{banks["safe"]}"' not in page  # the form never offers the SAFE bank
    assert f'<option value="{banks["csam"]}"' in page
    form = {"kind": "confirm", "label": "csam_known", "actions": "bank"}
    for bad in (banks["safe"], banks["ncii"], banks["off"], 999_999, 2**70):
        r = decide(sam, cid, **form, bank_id=str(bad))
        assert r.status_code == 400, bad
        with db.session() as s:
            case = review_repo.get_case(s, case_id=cid)
            assert case is not None and case.state == "open" and case.outcome is None
            assert review_repo.list_decisions(s, case_id=cid) == []
    assert _entries(db, banks["safe"]) == 0 and _entries(db, banks["ncii"]) == 0
    refused = audit(db, "case.decide_refused")
    assert len(refused) == 4  # the 2**70 id is refused as malformed before the workflow runs
    assert {r.details["bank_id"] for r in refused} == {banks["safe"], banks["ncii"], banks["off"], 999_999}
    assert all(r.actor == "sam" for r in refused)
    # the bank the form offers, of the label's category, works
    assert decide(sam, cid, **form, bank_id=str(banks["csam"])).status_code == 303
    assert _entries(db, banks["csam"]) > 0


def test_a_reviewer_cannot_decide_a_case_assigned_to_someone_else(app, db, review, people) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    cid = seed_cases(db, review)["ai_generated"]
    with db.session() as s:
        case = review_repo.get_case(s, case_id=cid)
        review.cases.assign(
            s, case_id=cid, expected_version=case.version, assignee=people["reviewer"], actor=people["reviewer"]
        )
    rob = client_at(app, "10.0.0.2")
    sign_in(rob, "rob")
    assert decide(rob, cid, kind="not_violating").status_code == 403
    with db.session() as s:
        case = review_repo.get_case(s, case_id=cid)
        assert case.state == "assigned" and case.outcome is None
    assert [r.actor for r in audit(db, "case.decide_refused")] == ["rob"]
    rita = client_at(app, "10.0.0.3")
    sign_in(rita, "rita")
    assert decide(rita, cid, kind="not_violating").status_code == 303


def test_failed_sign_ins_from_one_address_do_not_lock_the_reviewer_out(app, db) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    attacker = client_at(app, "203.0.113.9")
    for _ in range(5):
        assert sign_in(attacker, "rita", "wrong-password-123").status_code == 401
    r = sign_in(attacker, "rita", "wrong-password-123")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert sign_in(attacker, "rita").status_code == 429  # the right password does not help from there
    assert sign_in(client_at(app, "198.51.100.7"), "rita").status_code == 303  # rita, elsewhere


def test_concurrent_sign_in_attempts_cannot_race_past_the_limit(app, db) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    codes: list[int] = []
    lock = threading.Lock()

    def attempt() -> None:
        c = client_at(app, "203.0.113.50")
        code = sign_in(c, "rita", "wrong-password-123").status_code
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [401] * 5 + [429] * 7  # exactly the limit of password checks
