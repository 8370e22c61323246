"""A local stand-in for NCMEC's CyberTipline Reporting API, for tests and for trying the flow offline.

It implements status, submit, upload, fileinfo, finish and retract with HTTP Basic auth, keeps reports
in memory, and refuses (4100) a report or file details missing an element NCMEC requires. `fail` makes
chosen calls answer 500 so tests can show what a failing endpoint does to the queue.
"""

from __future__ import annotations

import hashlib
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, File, Form, Request, Response, UploadFile

INCIDENT_TYPES = {
    "Child Pornography (possession, manufacture, and distribution)",
    "Child Sex Trafficking",
    "Child Sex Tourism",
    "Child Sexual Molestation",
    "Misleading Domain Name",
    "Misleading Words or Digital Images on the Internet",
    "Online Enticement of Children for Sexual Acts",
    "Unsolicited Obscene Material Sent to a Child",
}
HASH_TYPES_MAX = 64


@dataclass
class StandInReport:
    xml: bytes
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    state: str = "open"  # open | finished | retracted


@dataclass
class NcmecStandIn:
    username: str = "esp"
    password: str = "secret"
    reports: dict[str, StandInReport] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)  # path -> how many next calls answer 500
    calls: list[str] = field(default_factory=list)
    next_id: int = 1000


def _resp(code: int, desc: str, status: int = 200, **extra: str) -> Response:
    root = ET.Element("reportResponse")
    ET.SubElement(root, "responseCode").text = str(code)
    ET.SubElement(root, "responseDescription").text = desc
    for k, v in extra.items():
        ET.SubElement(root, k).text = v
    return Response(
        ET.tostring(root, encoding="utf-8"),
        status_code=status,
        media_type="text/xml",
        headers={"Request-ID": secrets.token_hex(8)},
    )


def report_problems(xml: bytes) -> list[str]:
    """What NCMEC requires of a `<report>` (cardinality 1 elements and their allowed values)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        return [f"malformed XML: {e}"]
    if root.tag != "report":
        return ["root element must be <report>"]
    problems = []
    summary = root.find("incidentSummary")
    if summary is None:
        problems.append("incidentSummary is required")
    else:
        it = summary.findtext("incidentType")
        if not it:
            problems.append("incidentSummary/incidentType is required")
        elif it not in INCIDENT_TYPES:
            problems.append(f"incidentType {it!r} is not an allowed value")
        if not summary.findtext("incidentDateTime"):
            problems.append("incidentSummary/incidentDateTime is required")
    reporter = root.find("reporter")
    if reporter is None or reporter.find("reportingPerson") is None:
        problems.append("reporter/reportingPerson is required")
    elif not reporter.findtext("reportingPerson/email"):
        problems.append("reporter/reportingPerson/email is required")
    for ev in root.iter("ipCaptureEvent"):
        if not ev.findtext("ipAddress"):
            problems.append("ipCaptureEvent/ipAddress is required")
    return problems


def file_details_problems(xml: bytes) -> list[str]:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        return [f"malformed XML: {e}"]
    problems = []
    if root.tag != "fileDetails":
        return ["root element must be <fileDetails>"]
    for req in ("reportId", "fileId"):
        if not root.findtext(req):
            problems.append(f"{req} is required")
    if root.findtext("exifViewedByEsp") == "true" and root.findtext("fileViewedByEsp") != "true":
        problems.append("exifViewedByEsp=true needs fileViewedByEsp=true")
    relevance = root.findtext("fileRelevance")
    if relevance not in (None, "Reported", "Supplemental Reported"):
        problems.append(f"fileRelevance {relevance!r} is not allowed")
    if relevance == "Supplemental Reported" and (
        root.find("industryClassification") is not None or root.find("fileAnnotations/potentialMeme") is not None
    ):
        problems.append("a Supplemental Reported file may not carry industryClassification or potentialMeme")
    for h in root.findall("originalFileHash"):
        t = h.get("hashType")
        if not t or len(t) > HASH_TYPES_MAX:
            problems.append("originalFileHash needs a hashType attribute")
    return problems


def build_standin_app(state: NcmecStandIn) -> FastAPI:
    app = FastAPI(title="NCMEC CyberTipline stand-in")

    @app.middleware("http")
    async def basic_auth(request: Request, call_next: Any) -> Response:
        import base64

        path = request.url.path.rsplit("/", 1)[-1]
        state.calls.append(path)
        want = "Basic " + base64.b64encode(f"{state.username}:{state.password}".encode()).decode()
        if request.headers.get("authorization") != want:
            return Response(status_code=401)
        if state.fail.get(path, 0) > 0:
            state.fail[path] -= 1
            return Response("<html>upstream error</html>", status_code=500)
        resp: Response = await call_next(request)
        return resp

    def open_report(rid: str) -> StandInReport | Response:
        rep = state.reports.get(rid)
        if rep is None:
            return _resp(5001, "Report does not exist")
        if rep.state == "finished":
            return _resp(5102, "Report already finished")
        if rep.state == "retracted":
            return _resp(5101, "Report already retracted")
        return rep

    @app.get("/ispws/status")
    def status() -> Response:
        return _resp(0, "Success")

    @app.post("/ispws/submit")
    async def submit(request: Request) -> Response:
        body = await request.body()
        problems = report_problems(body)
        if problems:
            return _resp(4100, "Validation failed: " + "; ".join(problems), status=400)
        state.next_id += 1
        rid = str(state.next_id)
        state.reports[rid] = StandInReport(xml=body)
        return _resp(0, "Success", reportId=rid)

    @app.post("/ispws/upload")
    async def upload(id: str = Form(...), file: UploadFile = File(...)) -> Response:
        rep = open_report(id)
        if isinstance(rep, Response):
            return rep
        data = await file.read()
        fid = secrets.token_hex(16)
        rep.files[fid] = {"name": file.filename, "md5": hashlib.md5(data).hexdigest(), "size": len(data)}
        return _resp(0, "Success", reportId=id, fileId=fid, hash=rep.files[fid]["md5"])

    @app.post("/ispws/fileinfo")
    async def fileinfo(request: Request) -> Response:
        body = await request.body()
        problems = file_details_problems(body)
        if problems:
            return _resp(4100, "Validation failed: " + "; ".join(problems), status=400)
        root = ET.fromstring(body)
        rep = open_report(root.findtext("reportId") or "")
        if isinstance(rep, Response):
            return rep
        fid = root.findtext("fileId") or ""
        if fid not in rep.files:
            return _resp(5002, "File does not exist")
        rep.files[fid]["details"] = body
        return _resp(0, "Success")

    @app.post("/ispws/finish")
    def finish(id: str = Form(...)) -> Response:
        rep = open_report(id)
        if isinstance(rep, Response):
            return rep
        rep.state = "finished"
        root = ET.Element("reportDoneResponse")
        ET.SubElement(root, "responseCode").text = "0"
        ET.SubElement(root, "reportId").text = id
        files = ET.SubElement(root, "files")
        for fid in rep.files:
            ET.SubElement(files, "fileId").text = fid
        return Response(ET.tostring(root, encoding="utf-8"), media_type="text/xml")

    @app.post("/ispws/retract")
    def retract(id: str = Form(...)) -> Response:
        rep = open_report(id)
        if isinstance(rep, Response):
            return rep
        rep.state = "retracted"
        return _resp(0, "Success", reportId=id)

    return app
