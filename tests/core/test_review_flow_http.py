"""From a blocked upload to a case, a reviewer's confirmed report, and the user's appeal — through the
public HTTP API, on SQLite and PostgreSQL (stand-in detector scores for a benign photo)."""

from __future__ import annotations

import httpx
from standins import install_standins

from amparo.cases.roles import Actor
from amparo.cases.workflow import DecisionInput
from amparo.store import review_repo
from amparo.store.tables_events import LegalReportRow


def test_case_report_and_appeal(service, live_api, shared_data) -> None:
    url, keys = live_api
    photo = (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    dets = install_standins(service)
    dets["nudity"].set(photo, nudity=0.91)
    dets["faces_age"].set(photo, faces=1, min_age=8, minor=0.93)
    sub = {"Authorization": f"Bearer {keys['submitter']}"}
    v = httpx.post(
        f"{url}/v1/check", files={"file": ("x.jpg", photo)}, data={"account": "u-1"}, headers=sub, timeout=60
    )
    v = v.json()
    assert v["labels"] == ["csam_suspected"] and "open_case" in v["action_results"]

    # a reviewer confirms and reports
    with service.db.session() as s:
        user = review_repo.insert_user(s, name="rev", role="senior_reviewer", password_hash="x")
        actor = Actor(name=user.name, role=user.role, user_id=user.id)
        case = review_repo.list_queue(s, include_escalated=True, limit=5)[0]
        service.cases.decide(
            s,
            case_id=case.id,
            expected_version=case.version,
            actor=actor,
            decision=DecisionInput("confirm", "csam_suspected", actions=("report",)),
        )
        reports = s.query(LegalReportRow).filter(LegalReportRow.payload["case_id"].as_integer() == case.id).all()
        assert [r.target for r in reports] == ["ncmec"] and reports[0].status == "queued"

    # the affected user appeals through the platform, by the event id they were told
    r = httpx.post(
        f"{url}/v1/appeals",
        json={"event_id": v["event_id"], "statement": "this is my own landscape photo"},
        headers=sub,
    )
    assert r.status_code == 201, r.text
    appeal = r.json()
    assert appeal["state"] == "open" and appeal["case_id"] == case.id
    assert httpx.get(f"{url}/v1/appeals/{appeal['id']}", headers=sub).json()["state"] == "open"
    again = httpx.post(f"{url}/v1/appeals", json={"case_id": case.id, "statement": "again"}, headers=sub)
    assert again.status_code == 409
    bad = httpx.post(f"{url}/v1/appeals", json={"statement": "no target"}, headers=sub)
    assert bad.status_code == 400
    aud = httpx.post(
        f"{url}/v1/appeals",
        json={"case_id": case.id, "statement": "x"},
        headers={"Authorization": f"Bearer {keys['auditor']}"},
    )
    assert aud.status_code == 403
