"""CyberTipline: a confirmed case becomes a complete report at the stand-in; failures never lose it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from amparo.reports.exporters import ExporterRegistry, ReportQueue
from amparo.reports.ncmec_client import NcmecClient, NcmecExporter
from amparo.reports.ncmec_xml import Reporter
from amparo.store import audit_repo, evidence_repo, reports_repo
from reports.conftest import confirmed_case, make_actor

REPORTER = Reporter("Trust", "Safety", "tns@platform.example", platform="Example Images")


def queue_for(service: Any, url: str, *, password: str = "secret", attempts: int = 2) -> ReportQueue:
    reg = ExporterRegistry()
    client = NcmecClient(url, "esp", password, timeout=5, attempts=attempts, backoff_seconds=0.01)
    reg.register(NcmecExporter(client, REPORTER))
    return ReportQueue(db=service.db, audit=service.audit, vault=service.vault, registry=reg)


def ncmec_rows(service: Any) -> list[Any]:
    with service.db.session() as s:
        rows = reports_repo.list_reports(s, target="ncmec")
        for r in rows:
            s.expunge(r)
        return rows


def test_confirmed_case_yields_a_complete_cybertipline_report(service, ncmec) -> None:
    url, standin = ncmec
    rita = make_actor(service, "rita", "reviewer")
    case_id = confirmed_case(service, rita)
    [row] = ncmec_rows(service)
    [res] = queue_for(service, url).process()
    assert res.ok, res.error
    rid = res.detail["ncmec_report_id"]
    rep = standin.reports[rid]
    assert rep.state == "finished"
    root = ET.fromstring(rep.xml)
    assert root.findtext("incidentSummary/incidentType").startswith("Child Pornography")
    assert root.findtext("personOrUserReported/espIdentifier") == "acct-42"
    assert root.findtext("personOrUserReported/ipCaptureEvent/ipAddress") == "203.0.113.7"
    [(fid, f)] = rep.files.items()
    details = ET.fromstring(f["details"])
    assert details.findtext("fileViewedByEsp") == "true"  # rita revealed it
    hashes = {h.get("hashType"): h.text for h in details.findall("originalFileHash")}
    with service.db.session() as s:
        [item] = evidence_repo.list_items(s, case_id=case_id, limit=10)
        assert hashes == {"MD5": item.md5, "SHA1": item.sha1, "SHA256": item.sha256}
        assert f["md5"] == item.md5
        # held a year, the report id in the audit trail, the row sent
        holds = evidence_repo.active_holds(s, ref=item.ref, now=item.created_at)
        assert holds and (holds[0].ends_at - item.created_at).days >= 365
        sent = audit_repo.list_records(s, action="report.sent")
        assert sent[0].details["ncmec_report_id"] == rid
        assert reports_repo.get_report(s, report_id=row.id).status == "sent"


def test_unviewed_automated_file_is_reported_as_not_viewed_with_generative_flag(service, ncmec) -> None:
    url, standin = ncmec
    rita = make_actor(service, "rita", "reviewer")
    confirmed_case(service, rita, label="csam_known", reveal=False, ip=None)
    [res] = queue_for(service, url).process()
    assert res.ok, res.error
    rep = standin.reports[res.detail["ncmec_report_id"]]
    [f] = rep.files.values()
    details = ET.fromstring(f["details"])
    assert details.findtext("fileViewedByEsp") == "false"
    assert ET.fromstring(rep.xml).find("personOrUserReported/ipCaptureEvent") is None


def test_unreachable_endpoint_keeps_the_report_queued_and_retry_sends_it_once(service, ncmec) -> None:
    url, standin = ncmec
    rita = make_actor(service, "rita", "reviewer")
    confirmed_case(service, rita)
    dead = queue_for(service, "http://127.0.0.1:9/ispws")
    [res] = dead.process()
    assert not res.ok and "ConnectError" in (res.error or "")
    [row] = ncmec_rows(service)
    assert row.status == "queued" and row.payload["attempts"] == 1 and row.payload["last_error"]
    live = queue_for(service, url)
    res2 = live.retry(row.id, actor="ada", actor_role="admin")
    assert res2.ok
    assert [r.state for r in standin.reports.values()] == ["finished"]
    assert standin.calls.count("submit") == 1
    assert live.process() == []  # nothing left to send


def test_failure_mid_upload_retracts_the_open_report_then_retry_finishes(service, ncmec) -> None:
    url, standin = ncmec
    rita = make_actor(service, "rita", "reviewer")
    confirmed_case(service, rita)
    standin.fail["fileinfo"] = 5  # more than the client's attempts
    [res] = queue_for(service, url).process()
    assert not res.ok
    [first] = standin.reports.values()
    assert first.state == "retracted"  # never left open
    [row] = ncmec_rows(service)
    assert row.status == "queued"
    standin.fail.clear()
    assert queue_for(service, url).retry(row.id, actor="ada", actor_role="admin").ok
    assert sorted(r.state for r in standin.reports.values()) == ["finished", "retracted"]
    with service.db.session() as s:
        assert audit_repo.list_records(s, action="report.retracted")


def test_transient_5xx_is_retried_with_backoff(service, ncmec) -> None:
    url, standin = ncmec
    rita = make_actor(service, "rita", "reviewer")
    confirmed_case(service, rita)
    standin.fail["submit"] = 1
    [res] = queue_for(service, url, attempts=3).process()
    assert res.ok
    assert standin.calls.count("submit") == 2


def test_wrong_credentials_and_unconfirmed_material_are_not_sent(service, ncmec) -> None:
    url, standin = ncmec
    rita = make_actor(service, "rita", "reviewer")
    confirmed_case(service, rita)
    [res] = queue_for(service, url, password="wrong").process()
    assert not res.ok and "401" in (res.error or "")
    assert standin.reports == {}


def test_standin_rejects_a_report_missing_required_elements(ncmec) -> None:
    import httpx

    url, _ = ncmec
    r = httpx.post(url + "/submit", content=b"<report><reporter/></report>", auth=("esp", "secret"))
    assert r.status_code == 400 and b"incidentSummary is required" in r.content


def test_restart_after_an_interrupted_upload_retracts_and_finishes_once(service, ncmec) -> None:
    """A crash between upload and saving its file id: the next run retracts the open report and starts over."""
    import httpx

    url, standin = ncmec
    rita = make_actor(service, "rita", "reviewer")
    confirmed_case(service, rita)
    r = httpx.post(url + "/submit", content=b"<report/>", auth=("esp", "secret"))  # what the crashed run opened
    assert r.status_code == 400

    ok = httpx.post(
        url + "/submit",
        content=b"<report><incidentSummary><incidentType>Child Pornography (possession, manufacture, and "
        b"distribution)</incidentType><incidentDateTime>2026-01-01T00:00:00+00:00</incidentDateTime>"
        b"</incidentSummary><reporter><reportingPerson><email>a@b.example</email></reportingPerson></reporter>"
        b"</report>",
        auth=("esp", "secret"),
    )
    crashed_id = ET.fromstring(ok.content).findtext("reportId")
    [row] = ncmec_rows(service)
    with service.db.session() as s:
        fresh = reports_repo.get_report(s, report_id=row.id)
        payload = dict(fresh.payload)
        payload["state"] = {"report_id": crashed_id, "pending": "upload", "files": {}}
        reports_repo.save_report(s, row=fresh, status="queued", payload=payload)
    [res] = queue_for(service, url).process()
    assert res.ok, res.error
    assert standin.reports[crashed_id].state == "retracted"
    finished = [rid for rid, rep in standin.reports.items() if rep.state == "finished"]
    assert finished == [res.detail["ncmec_report_id"]] and finished[0] != crashed_id


def test_a_report_being_sent_elsewhere_is_not_sent_twice_and_unconfigured_targets_wait(service, ncmec) -> None:
    import pytest

    from amparo.errors import Conflict
    from amparo.store.tables_events import LegalReportRow

    url, standin = ncmec
    confirmed_case(service, make_actor(service, "rita", "reviewer"))
    with service.db.session() as s:
        reports_repo.add_report(s, row=LegalReportRow(target="es_authorities", status="queued", payload={}))
    q = queue_for(service, url)
    [row] = ncmec_rows(service)
    assert q.claim(row.id)  # another sender holds it
    assert q.process() == []  # neither the held row nor the unconfigured target is touched
    with pytest.raises(Conflict):
        q.send_one(row.id)
    assert standin.reports == {}
    with service.db.session() as s:
        other = reports_repo.list_reports(s, target="es_authorities")[0]
        assert other.status == "queued" and "attempts" not in other.payload


def test_reading_the_file_for_ncmec_is_not_a_person_viewing_it(service, ncmec) -> None:
    url, standin = ncmec
    confirmed_case(service, make_actor(service, "rita", "reviewer"), label="csam_known", reveal=False)
    standin.fail["finish"] = 5  # the first attempt reads and uploads the file, then fails
    [first] = queue_for(service, url).process()
    assert not first.ok
    standin.fail.clear()
    [row] = ncmec_rows(service)
    assert queue_for(service, url).retry(row.id, actor="ada", actor_role="admin").ok
    [finished] = [r for r in standin.reports.values() if r.state == "finished"]
    [f] = finished.files.values()
    assert ET.fromstring(f["details"]).findtext("fileViewedByEsp") == "false"
    with service.db.session() as s:
        assert not audit_repo.list_records(s, action="evidence.reveal")
        assert len(audit_repo.list_records(s, action="evidence.export")) == 2
