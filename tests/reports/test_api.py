"""The reports API over real HTTP: roles, bad input, retry after a failure, transparency and packages."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import httpx

from amparo.reports.package_verify import verify_package
from reports.conftest import confirmed_case, make_actor
from reports.synth import add_event


def test_reports_api(service, live_api, ncmec, tdb, monkeypatch, tmp_path: Path) -> None:
    url, keys = live_api
    monkeypatch.setenv("AMPARO_NCMEC_URL", "http://127.0.0.1:9/ispws")  # unreachable first
    monkeypatch.setenv("AMPARO_NCMEC_USERNAME", "esp")
    monkeypatch.setenv("AMPARO_NCMEC_PASSWORD", "secret")
    monkeypatch.setenv("AMPARO_NCMEC_REPORTER_EMAIL", "tns@platform.example")
    monkeypatch.setenv("AMPARO_NCMEC_ATTEMPTS", "1")
    monkeypatch.setenv("AMPARO_DSA_TDB_URL", tdb[0])
    monkeypatch.setenv("AMPARO_DSA_TDB_TOKEN", "1|standin-token")
    rita = make_actor(service, "rita", "reviewer")
    case_id = confirmed_case(service, rita)
    with service.db.session() as s:
        eid = add_event(s, decision="age_restrict", labels=["minor_present"], at=datetime(2026, 5, 5, tzinfo=UTC))

    def h(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[role]}"}

    with httpx.Client(base_url=url, timeout=30) as c:
        assert c.get("/v1/reports", headers=h("submitter")).status_code == 403
        r = c.post("/v1/reports/send", headers=h("admin"))
        assert r.status_code == 200
        [res] = r.json()["results"]
        assert not res["ok"] and "ConnectError" in res["error"]
        rows = c.get("/v1/reports", headers=h("auditor")).json()["reports"]
        [row] = [x for x in rows if x["target"] == "ncmec"]
        assert row["status"] == "queued" and row["attempts"] == 1 and row["last_error"]
        assert c.post(f"/v1/reports/{row['id']}/retry", headers=h("auditor")).status_code == 403
        # the endpoint comes back: the retry sends it once
        monkeypatch.setenv("AMPARO_NCMEC_URL", ncmec[0])
        r = c.post(f"/v1/reports/{row['id']}/retry", headers=h("admin"))
        assert r.status_code == 200 and r.json()["ok"]
        assert [x.state for x in ncmec[1].reports.values()] == ["finished"]
        assert c.post(f"/v1/reports/{row['id']}/retry", headers=h("admin")).status_code == 409
        r = c.post("/v1/reports/statements", headers=h("admin"), json={"from": "2026-05-01", "to": "2026-06-01"})
        assert r.json() == {"queued": 1}
        assert (
            c.post("/v1/reports/statements", headers=h("admin"), json={"from": "2026-13-01", "to": "x"}).status_code
            == 400
        )
        sor = c.get(f"/v1/reports/sor/event-{eid}", headers=h("auditor")).json()
        assert sor["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"]
        assert c.get("/v1/reports/sor/drop-table", headers=h("auditor")).status_code == 400
        st = c.get(f"/v1/reports/user-statement/event-{eid}?language=gl", headers=h("submitter")).json()
        assert st["language"] == "gl" and st["appeal"]["route"] == "POST /v1/appeals"
        assert c.get(f"/v1/reports/user-statement/event-{eid}?language=xx", headers=h("submitter")).status_code == 400
        tr = c.get("/v1/reports/transparency?from=2026-01-01&to=2027-01-01", headers=h("auditor")).json()
        assert tr["statements_total"] == 1
        x = c.get("/v1/reports/transparency?from=2026-01-01&to=2027-01-01&format=xlsx", headers=h("auditor"))
        assert x.status_code == 200 and x.content[:2] == b"PK"
        assert c.get("/v1/reports/transparency?from=2027-01-01&to=2026-01-01", headers=h("auditor")).status_code == 400
        r = c.post("/v1/reports/packages", headers=h("admin"), json={"case_id": case_id, "purpose": "order 7"})
        assert r.status_code == 200
        (tmp_path / "p.zip").write_bytes(r.content)
        assert verify_package(tmp_path / "p.zip").ok
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            assert any(n.startswith("items/") for n in z.namelist())
        assert c.post("/v1/reports/packages", headers=h("admin"), json={"purpose": "x"}).status_code == 400
        assert (
            c.post("/v1/reports/packages", headers=h("auditor"), json={"case_id": 1, "purpose": "x"}).status_code == 403
        )
