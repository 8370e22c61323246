"""NCMEC CyberTipline Reporting API: the HTTP client and the restart-safe exporter (`us` profile).

The exporter is a state machine kept in the queue row: submit → upload (per file) → fileinfo (per file)
→ finish. Before each remote call the step is saved as `pending`; after it, its result. A restart that
finds a pending submit starts over (NCMEC deletes an unfinished report by itself), a pending upload or a
failure that retries cannot fix retracts the open report, a pending finish is repeated (5102 "already
finished" counts as done). So a report is finished or retracted, never left open.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from amparo.audit import names
from amparo.reports.categories import NCMEC_LABELS
from amparo.reports.exporters import NEEDS_REVIEW, REPORT_RETRACTED, ExportError, SendContext
from amparo.reports.ncmec_xml import Reporter, file_details_xml, report_xml, response_fields
from amparo.reports.record import DecisionRecord, case_record
from amparo.store import reports_repo
from amparo.store.tables_events import LegalReportRow

EXTTEST_URL = "https://exttest.cybertip.org/ispws"
PRODUCTION_URL = "https://report.cybertip.org/ispws"
ALREADY_FINISHED = 5102
ALREADY_RETRACTED = 5101
HOLD_DAYS = 366  # 18 U.S.C. 2258A(h) as amended by the REPORT Act: one year from the report


class NcmecError(ExportError):
    def __init__(self, message: str, *, response_code: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.response_code = response_code
        self.retryable = retryable


@dataclass
class NcmecClient:
    base_url: str
    username: str
    password: str
    timeout: float = 30.0
    attempts: int = 3
    backoff_seconds: float = 1.0

    def _call(self, path: str, *, method: str = "POST", **kw: Any) -> dict[str, str]:
        last: NcmecError | None = None
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff_seconds * (2 ** (attempt - 1)))
            try:
                with httpx.Client(timeout=self.timeout, auth=(self.username, self.password)) as c:
                    r = c.request(method, self.base_url.rstrip("/") + path, **kw)
            except httpx.HTTPError as e:
                last = NcmecError(f"NCMEC {path}: {type(e).__name__}: {e}", retryable=True)
                continue
            fields = response_fields(r.content)
            rid = r.headers.get("Request-ID", "")
            if r.status_code >= 500:
                last = NcmecError(f"NCMEC {path}: HTTP {r.status_code} (Request-ID {rid})", retryable=True)
                continue
            if r.status_code == 401:
                raise NcmecError(f"NCMEC {path}: credentials refused (HTTP 401)", response_code=2000)
            code = int(fields.get("responseCode", "-1") or -1)
            if code != 0:
                raise NcmecError(
                    f"NCMEC {path}: {code} {fields.get('responseDescription', '')} (Request-ID {rid})".strip(),
                    response_code=code,
                )
            return fields
        assert last is not None
        raise last

    def status(self) -> dict[str, str]:
        return self._call("/status", method="GET")

    def submit(self, xml: bytes) -> str:
        f = self._call("/submit", content=xml, headers={"Content-Type": "text/xml; charset=utf-8"})
        return f["reportId"]

    def upload(self, report_id: str, name: str, data: bytes) -> tuple[str, str]:
        f = self._call("/upload", data={"id": report_id}, files={"file": (name, data)})
        return f["fileId"], f.get("hash", "")

    def fileinfo(self, xml: bytes) -> None:
        self._call("/fileinfo", content=xml, headers={"Content-Type": "text/xml; charset=utf-8"})

    def finish(self, report_id: str) -> dict[str, str]:
        return self._call("/finish", data={"id": report_id})

    def retract(self, report_id: str) -> None:
        self._call("/retract", data={"id": report_id})


def record_for(ctx: SendContext, row: LegalReportRow) -> DecisionRecord:
    payload = row.payload or {}
    with ctx.db.session() as s:
        case_id = payload.get("case_id")
        if case_id is None and row.event_id is not None:
            case = reports_repo.cases_for_events(s, event_ids=[row.event_id]).get(row.event_id)
            case_id = case.id if case else None
        if case_id is None:
            raise ExportError(f"report {row.id} has no case: a CyberTipline report needs the preserved files")
        return case_record(s, case_id=int(case_id))


def reportable(rec: DecisionRecord) -> None:
    """Known-hash matches go as the policy queued them; anything else only after a person confirmed it."""
    if rec.reviewer_outcome == "not_violating":
        raise ExportError("a reviewer found this not violating: nothing to report", code=NEEDS_REVIEW)
    labels = rec.effective_labels
    if not any(lb in NCMEC_LABELS for lb in labels):
        raise ExportError(f"labels {labels} are not apparent CSAM", code=NEEDS_REVIEW)
    if rec.reviewer_outcome != "confirm" and "csam_known" not in labels:
        raise ExportError("suspected material is reported only after a person confirmed it", code=NEEDS_REVIEW)
    if not rec.files:
        raise ExportError("no preserved file to report")


class NcmecExporter:
    target = "ncmec"

    def __init__(self, client: NcmecClient, reporter: Reporter) -> None:
        self.client = client
        self.reporter = reporter

    def _read(self, ctx: SendContext, ref: str) -> tuple[bytes, dict[str, Any]]:
        with ctx.db.session() as s:
            # an export, not a reveal: a machine reading the file for NCMEC is not a person viewing it
            row, content = ctx.vault.read(
                s,
                ref=ref,
                actor=ctx.actor,
                actor_role=ctx.actor_role,
                purpose=f"NCMEC report {ctx.report_id}",
                action=names.EVIDENCE_EXPORT,
            )
            meta = ctx.vault._decrypt(row)[1]  # the capture metadata (item context) has no public reader
        return content, meta

    def _retract(self, ctx: SendContext, state: dict[str, Any], why: str) -> None:
        rid = state.get("report_id")
        if rid:
            try:
                self.client.retract(str(rid))
            except NcmecError as e:
                if e.response_code not in (ALREADY_RETRACTED,):
                    raise
            with ctx.db.session() as s:
                ctx.audit.record(
                    s,
                    action=REPORT_RETRACTED,
                    subject_type="legal_report",
                    subject_id=ctx.report_id,
                    actor=ctx.actor,
                    actor_role=ctx.actor_role,
                    details={"ncmec_report_id": rid, "why": why[:300]},
                )
        retracted = [*state.get("retracted", []), *([rid] if rid else [])]
        state.clear()
        state["retracted"] = retracted
        ctx.save(dict(state))

    def send(self, ctx: SendContext, row: LegalReportRow, state: dict[str, Any]) -> dict[str, Any]:
        rec = record_for(ctx, row)
        reportable(rec)
        pending = state.get("pending")
        if pending == "submit":  # crashed between submit and saving its id: NCMEC expires that one
            state.clear()
        elif pending == "upload":  # unknown whether the file arrived: start over cleanly
            self._retract(ctx, state, "restart after an interrupted upload")
        try:
            return self._run(ctx, rec, state)
        except NcmecError as e:
            if state.get("report_id") and not state.get("finished"):
                try:
                    self._retract(ctx, state, e.message)
                except NcmecError as e2:
                    raise NcmecError(f"{e.message}; retract also failed: {e2.message}") from e
            raise

    def _run(self, ctx: SendContext, rec: DecisionRecord, state: dict[str, Any]) -> dict[str, Any]:
        files: dict[str, dict[str, Any]] = state.setdefault("files", {})
        contents: dict[str, tuple[bytes, dict[str, Any]]] = {}
        ips: list[dict[str, Any]] = []
        for f in rec.files:
            contents[f.ref] = self._read(ctx, f.ref)
            ip = _ip_of(contents[f.ref][1])
            if ip:
                ips.append(ip)
        if not state.get("report_id"):
            state["pending"] = "submit"
            ctx.save(state)
            state["report_id"] = self.client.submit(report_xml(rec, self.reporter, ips=ips))
            state["pending"] = None
            ctx.save(state)
        rid = str(state["report_id"])
        for f in rec.files:
            done = files.setdefault(f.ref, {})
            data, meta = contents[f.ref]
            if not done.get("file_id"):
                state["pending"] = "upload"
                ctx.save(state)
                file_id, md5 = self.client.upload(rid, f"{f.ref}{_ext(f.media_type)}", data)
                if md5 and md5.lower() != hashlib.md5(data).hexdigest():
                    raise NcmecError(f"NCMEC received file {f.ref} damaged (MD5 differs)")
                done["file_id"] = file_id
                state["pending"] = None
                ctx.save(state)
            if not done.get("info"):
                name = (meta.get("context") or {}).get("source")
                xml = file_details_xml(report_id=rid, file_id=done["file_id"], f=f, original_name=name, ip=_ip_of(meta))
                self.client.fileinfo(xml)
                done["info"] = True
                ctx.save(state)
        if not state.get("finished"):
            state["pending"] = "finish"
            ctx.save(state)
            try:
                self.client.finish(rid)
            except NcmecError as e:
                if e.response_code != ALREADY_FINISHED:
                    raise
            state.update(pending=None, finished=True)
            ctx.save(state)
        if not state.get("held"):  # a restart after finish neither finishes nor holds twice
            self._hold(ctx, rec, rid)
            state["held"] = True
            ctx.save(state)
        return {
            "ncmec_report_id": rid,
            "files": [{"ref": r, "file_id": v["file_id"]} for r, v in files.items()],
            "viewed": {f.ref: f.viewed_by_person for f in rec.files},
        }

    def _hold(self, ctx: SendContext, rec: DecisionRecord, rid: str) -> None:
        """Preserve what was reported for a year from the report (18 U.S.C. 2258A(h))."""
        with ctx.db.session() as s:
            for f in rec.files:
                ctx.vault.place_hold(
                    s,
                    ref=f.ref,
                    reason=f"NCMEC CyberTipline report {rid}: preservation under 18 U.S.C. 2258A(h)",
                    ends_at=datetime.now(UTC) + timedelta(days=HOLD_DAYS),
                    actor=ctx.actor,
                    actor_role=ctx.actor_role,
                    authority="NCMEC CyberTipline",
                )


def _ext(media_type: str) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}.get(
        media_type, ".bin"
    )


def _ip_of(meta: dict[str, Any]) -> dict[str, Any] | None:
    """The uploader's IP when the caller put it in the item's context (`extra.ip`, `extra.ip_at`)."""
    extra = (meta.get("context") or {}).get("extra") or {}
    ip = extra.get("ip")
    if not ip:
        return None
    return {"ip": ip, "event": extra.get("ip_event", "Upload"), "at": extra.get("ip_at")}
