"""CyberTipline XML: the `<report>` opened by /submit and the `<fileDetails>` of /fileinfo.

Element names and order follow NCMEC's Reporting API documentation as mirrored by public clients
(see docs/reports.md); the authoritative XSD is served at {base}/xsd to onboarded reporters and should
be checked in the exttest environment before production.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from amparo.reports.categories import NCMEC_INCIDENT_TYPE
from amparo.reports.record import DecisionRecord, FileFacts


@dataclass(frozen=True)
class Reporter:
    """The ESP's reporting person (configuration, never taken from user data)."""

    first_name: str
    last_name: str
    email: str
    platform: str = ""
    legal_url: str = ""


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def _ip_event(parent: ET.Element, ip: dict[str, Any]) -> None:
    ev = _sub(parent, "ipCaptureEvent")
    _sub(ev, "ipAddress", str(ip["ip"]))
    if ip.get("event"):
        _sub(ev, "eventName", str(ip["event"]))
    if ip.get("at"):
        _sub(ev, "dateTime", str(ip["at"]))


def report_xml(rec: DecisionRecord, reporter: Reporter, *, ips: list[dict[str, Any]] | None = None) -> bytes:
    """The `<report>` for one confirmed decision record."""
    root = ET.Element("report")
    summary = _sub(root, "incidentSummary")
    _sub(summary, "incidentType", NCMEC_INCIDENT_TYPE)
    if reporter.platform:
        _sub(summary, "platform", reporter.platform[:256])
    _sub(summary, "incidentDateTime", _iso(rec.content_at))
    who = _sub(root, "reporter")
    person = _sub(who, "reportingPerson")
    _sub(person, "firstName", reporter.first_name[:100])
    _sub(person, "lastName", reporter.last_name[:100])
    _sub(person, "email", reporter.email)
    if reporter.legal_url:
        _sub(who, "legalURL", reporter.legal_url[:2083])
    if rec.account:
        user = _sub(root, "personOrUserReported")
        _sub(user, "espIdentifier", rec.account)
        for ip in ips or []:
            _ip_event(user, ip)
    _sub(
        root,
        "additionalInfo",
        f"Amparo decision {rec.decision_id}; labels {', '.join(rec.effective_labels)}; "
        f"detected by {rec.system}; reviewed by a person: {'yes' if rec.reviewer_outcome else 'no'}.",
    )
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def file_details_xml(
    *, report_id: str, file_id: str, f: FileFacts, original_name: str | None = None, ip: dict[str, Any] | None = None
) -> bytes:
    """The `<fileDetails>` of one uploaded file. `fileViewedByEsp` is true only when a person opened the
    file in full (US v. Wilson, 9th Cir. 2021: an unviewed file may need a warrant to open)."""
    root = ET.Element("fileDetails")
    _sub(root, "reportId", str(report_id))
    _sub(root, "fileId", file_id)
    if original_name:
        _sub(root, "originalFileName", original_name[:2056])
    _sub(root, "uploadedToEspTimestamp", _iso(f.captured_at))
    _sub(root, "fileViewedByEsp", "true" if f.viewed_by_person else "false")
    _sub(root, "fileRelevance", "Reported")
    if f.generated:
        ann = _sub(root, "fileAnnotations")
        _sub(ann, "generativeAi")
    # The hashes taken at capture, before any change by the platform.
    _sub(root, "originalFileHash", f.md5, hashType="MD5")
    _sub(root, "originalFileHash", f.sha1, hashType="SHA1")
    _sub(root, "originalFileHash", f.sha256, hashType="SHA256")
    if ip:
        _ip_event(root, ip)
    if f.pdq or f.generation_ids:
        details = _sub(root, "details")
        if f.pdq:
            pair = _sub(details, "nameValuePair", type="HASH")
            _sub(pair, "name", "PDQ")
            _sub(pair, "value", f.pdq)
        for gid in f.generation_ids:
            pair = _sub(details, "nameValuePair")
            _sub(pair, "name", "generationId")
            _sub(pair, "value", gid)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def response_fields(body: bytes) -> dict[str, str]:
    """The `<reportResponse>`/`<reportDoneResponse>` children as a flat dict (empty on bad XML)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return {}
    return {child.tag: (child.text or "").strip() for child in root if len(child) == 0}
