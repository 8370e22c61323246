"""Stand-in servers for the partner APIs, on real HTTP: StopNCII (JSON, function keys), NCMEC hash
sharing v2 (XML, basic auth) and Meta ThreatExchange (Graph API, access token).

Each implements the documented protocol as python-threatexchange's clients speak it, and refuses
what the real service refuses: missing or wrong credentials (401), missing or malformed
parameters (400), unknown paging tokens (400), unknown signal types or feedback values (400).
`truncate_page` makes one FetchHashes page arrive as truncated JSON (TE issue #2004), which is how
the tests crash a sync midway.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

STOPNCII_TYPES = {"Unknown", "ImagePDQ", "VideoMD5", "VideoTMK", "Text", "URL"}
STOPNCII_FEEDBACK = {
    "Unknown",
    "None",
    "QualityUnknown",
    "PendingReview",
    "Blocked",
    "NotBlocked",
    "Withdrawn",
    "Deleted",
}


@dataclass
class StopNCIIState:
    subscription_key: str = "sub-key"
    function_keys: dict[str, str] = field(
        default_factory=lambda: {"FetchHashes": "fetch-key", "SubmitHashes": "submit-key", "SubmitFeedback": "fb-key"}
    )
    records: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, tuple[int, int]] = field(default_factory=dict)  # token -> (startTimestamp, offset)
    truncate_page: int | None = None  # the n-th FetchHashes call (1-based) answers truncated JSON, once
    calls: int = 0
    submitted: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    max_page_size: int = 1000


def stopncii_app(state: StopNCIIState) -> FastAPI:
    app = FastAPI()

    def auth(request: Request, endpoint: str) -> JSONResponse | None:
        if request.headers.get("Ocp-Apim-Subscription-Key") != state.subscription_key:
            return JSONResponse({"statusCode": 401, "message": "Access denied due to invalid subscription key."}, 401)
        if request.headers.get("x-functions-key") != state.function_keys[endpoint]:
            return JSONResponse({"message": "Unauthorized"}, 401)
        return None

    @app.get("/v1/FetchHashes")
    def fetch(request: Request) -> Response:
        if (denied := auth(request, "FetchHashes")) is not None:
            return denied
        q = request.query_params
        try:
            start = int(q["startTimestamp"])
            size = int(q["pageSize"])
        except (KeyError, ValueError):
            return JSONResponse({"message": "startTimestamp and pageSize are required integers"}, 400)
        if start < 0 or not 1 <= size <= state.max_page_size:
            return JSONResponse({"message": "bad startTimestamp or pageSize"}, 400)
        offset = 0
        token = q.get("nextPageToken")
        if token:
            if token not in state.tokens or state.tokens[token][0] != start:
                return JSONResponse({"message": "invalid nextPageToken"}, 400)
            offset = state.tokens[token][1]
        state.calls += 1
        selected = sorted(
            (r for r in state.records if r["lastModtimestamp"] >= start),
            key=lambda r: (r["lastModtimestamp"], str(r.get("hashValue"))),
        )
        page = selected[offset : offset + size]
        more = offset + size < len(selected)
        next_token = None
        if more:
            next_token = secrets.token_urlsafe(12)
            state.tokens[next_token] = (start, offset + size)
        next_set = (max(r["lastModtimestamp"] for r in selected) + 1) if selected else start
        body = {
            "count": len(page),
            "nextPageToken": next_token,
            "nextSetTimestamp": next_set,
            "hasMoreRecords": more,
            "hashRecords": page,
        }
        if state.truncate_page is not None and state.calls == state.truncate_page:
            state.truncate_page = None
            text = JSONResponse(body).body
            return Response(text[: len(text) // 2], media_type="application/json")
        return JSONResponse(body)

    @app.post("/v1/SubmitHashes")
    async def submit(request: Request) -> Response:
        if (denied := auth(request, "SubmitHashes")) is not None:
            return denied
        body = await request.json()
        recs = body.get("hashRecords") if isinstance(body, dict) else None
        if not isinstance(recs, list) or body.get("count") != len(recs):
            return JSONResponse({"message": "count must equal the number of hashRecords"}, 400)
        for r in recs:
            if r.get("signalType") not in STOPNCII_TYPES or not isinstance(r.get("hashValue"), str):
                return JSONResponse({"message": f"invalid signalType {r.get('signalType')!r}"}, 400)
            for fb in r.get("CSPFeedbacks", []):
                if fb.get("feedbackValue") not in STOPNCII_FEEDBACK:
                    return JSONResponse({"message": "invalid feedbackValue"}, 400)
        state.submitted.extend(recs)
        return JSONResponse({"count": len(recs)})

    @app.post("/v1/SubmitFeedback")
    async def feedback(request: Request) -> Response:
        if (denied := auth(request, "SubmitFeedback")) is not None:
            return denied
        body = await request.json()
        fbs = body.get("hashFeedbacks") if isinstance(body, dict) else None
        if not isinstance(fbs, list) or body.get("count") != len(fbs):
            return JSONResponse({"message": "count must equal the number of hashFeedbacks"}, 400)
        for f in fbs:
            if f.get("feedbackValue") not in STOPNCII_FEEDBACK or not isinstance(f.get("hashValue"), str):
                return JSONResponse({"message": "invalid feedback"}, 400)
        state.feedback.extend(fbs)
        return JSONResponse({"count": len(fbs)})

    return app


# -- NCMEC hash sharing v2 ---------------------------------------------------------------------------
NCMEC_NS = "https://hashsharing.ncmec.org/hashsharing/v2"
NCMEC_DATE = "%Y-%m-%dT%H:%M:%SZ"
NCMEC_FINGERPRINTS = {
    "MD5",
    "SHA1",
    "PDNA",
    "PDQ",
    "NETCLEAN",
    "VIDENTIFIER",
    "TMK_PDQF",
    "SSVH_PDNA",
    "SSVH_SAFER_HASH",
}
NCMEC_REASON = ("5c4b0f3e-8a6a-4a8e-9a53-1e5d6c1f0b11", "Not CSAM")


@dataclass
class NCMECEntry:
    id: str
    member_id: int
    ts: int
    kind: str = "image"  # image | video
    deleted: bool = False
    classification: str | None = "A1"
    fingerprints: dict[str, str] = field(default_factory=dict)  # xml tag -> value


@dataclass
class NCMECState:
    username: str = "esp-user"
    password: str = "esp-pass"
    member_id: int = 42
    entries: list[NCMECEntry] = field(default_factory=list)
    page_size: int = 1000
    votes: list[dict[str, Any]] = field(default_factory=list)


def _xml(root: ET.Element) -> Response:
    return Response(ET.tostring(root, encoding="utf-8", xml_declaration=True), media_type="application/xml")


def ncmec_app(state: NCMECState) -> FastAPI:
    import base64

    app = FastAPI()

    def authed(request: Request) -> bool:
        h = request.headers.get("authorization", "")
        if not h.lower().startswith("basic "):
            return False
        try:
            user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
        except Exception:
            return False
        return user == state.username and pw == state.password

    def unauthorized() -> Response:
        return Response("Unauthorized", 401, headers={"WWW-Authenticate": 'Basic realm="hashsharing"'})

    def member(parent: ET.Element, member_id: int) -> None:
        m = ET.SubElement(parent, "member", id=str(member_id))
        m.text = f"ESP {member_id}"

    @app.get("/v2/status")
    def status(request: Request) -> Response:
        if not authed(request):
            return unauthorized()
        root = ET.Element("statusResult", xmlns=NCMEC_NS)
        member(root, state.member_id)
        return _xml(root)

    @app.get("/v2/entries")
    def entries(request: Request) -> Response:
        if not authed(request):
            return unauthorized()
        q = request.query_params
        try:
            start_ts = int(datetime.strptime(q["from"], NCMEC_DATE).replace(tzinfo=UTC).timestamp())
            end_ts = int(datetime.strptime(q["to"], NCMEC_DATE).replace(tzinfo=UTC).timestamp())
        except (KeyError, ValueError):
            return Response("from and to are required dates (yyyy-MM-ddTHH:mm:ssZ)", 400)
        try:
            start = int(q.get("start", 0))
            size = int(q.get("size", state.page_size))
        except ValueError:
            return Response("bad paging parameters", 400)
        # Not in time order (TE issue #1105): the stand-in orders by entry id.
        selected = sorted((e for e in state.entries if start_ts <= e.ts <= end_ts), key=lambda e: e.id)
        page = selected[start : start + size]
        root = ET.Element("queryResult", xmlns=NCMEC_NS)
        for kind in ("image", "video"):
            items = [e for e in page if e.kind == kind]
            group = ET.SubElement(root, kind + "s", count=str(len(items)))
            if items:
                group.set("maxTimestamp", datetime.fromtimestamp(max(e.ts for e in items), UTC).strftime(NCMEC_DATE))
            for e in items:
                el = ET.SubElement(group, ("deleted" + kind.capitalize()) if e.deleted else kind)
                ET.SubElement(el, "id").text = e.id
                member(el, e.member_id)
                if e.deleted:
                    continue
                if e.classification:
                    ET.SubElement(el, "classification").text = e.classification
                fps = ET.SubElement(el, "fingerprints")
                for tag, value in e.fingerprints.items():
                    ET.SubElement(fps, tag).text = value
        if start + size < len(selected):
            paging = ET.SubElement(root, "paging")
            ET.SubElement(
                paging, "next"
            ).text = (
                f"/v2/entries?from={q['from']}&to={q['to']}&start={start + size}&size={size}&max={len(selected) - 1}"
            )
        return _xml(root)

    @app.get("/v2/feedback/{fingerprint}/reasons")
    def reasons(request: Request, fingerprint: str) -> Response:
        if not authed(request):
            return unauthorized()
        if fingerprint not in NCMEC_FINGERPRINTS:
            return Response("unknown fingerprint type", 400)
        root = ET.Element("feedbackReasonsResult", xmlns=NCMEC_NS)
        avail = ET.SubElement(root, "availableFeedbackReasons")
        ET.SubElement(avail, "reason", guid=NCMEC_REASON[0], name=NCMEC_REASON[1])
        return _xml(root)

    @app.put("/v2/entries/{esp_id}/{entry_id}/{fingerprint}/feedback")
    async def vote(request: Request, esp_id: int, entry_id: str, fingerprint: str) -> Response:
        if not authed(request):
            return unauthorized()
        if not request.headers.get("content-type", "").startswith("application/xml"):
            return Response("Content-Type must be application/xml", 415)
        if fingerprint not in NCMEC_FINGERPRINTS:
            return Response("unknown fingerprint type", 400)
        if not any(e.id == entry_id and e.member_id == esp_id for e in state.entries):
            return Response("no such entry", 404)
        try:
            root = ET.fromstring(await request.body())
        except ET.ParseError:
            return Response("malformed XML", 400)
        if root.tag.rpartition("}")[2] != "feedbackSubmission" or len(root) != 1:
            return Response("expected one vote in feedbackSubmission", 400)
        vote_el = root[0]
        kind = vote_el.tag.rpartition("}")[2]
        if kind == "negative":
            guids = [g.text for g in vote_el.iter() if g.tag.rpartition("}")[2] == "guid"]
            if guids != [NCMEC_REASON[0]]:
                return Response("a negative vote needs a known reason guid", 400)
        elif kind != "affirmative":
            return Response("unknown vote", 400)
        state.votes.append({"esp": esp_id, "entry": entry_id, "fingerprint": fingerprint, "vote": kind})
        return Response(status_code=200)

    return app


# -- Meta ThreatExchange (Graph API) -----------------------------------------------------------------
@dataclass
class ThreatExchangeState:
    token: str = "1234567890|abcdefghijklmnopqrstuvwxyz"
    privacy_group: int = 1012185296055235
    updates: list[dict[str, Any]] = field(default_factory=list)  # id, indicator, type, last_updated, should_delete
    uploads: list[dict[str, str]] = field(default_factory=list)


def _graph_error(message: str, code: int = 100, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "OAuthException", "code": code}}, status)


def threatexchange_app(state: ThreatExchangeState, base_url_ref: list[str]) -> FastAPI:
    app = FastAPI()
    upload_required = ("indicator", "type", "description", "share_level", "status", "privacy_type")

    @app.get("/v26.0/{group}/threat_updates/")
    def updates(request: Request, group: int) -> Response:
        q = request.query_params
        if q.get("access_token") != state.token:
            return _graph_error("Invalid OAuth access token.", 190, 401)
        if group != state.privacy_group:
            return _graph_error("Unsupported get request: unknown privacy group", 100, 400)
        try:
            start = int(q["start_time"]) if q.get("start_time") else 0
            stop = int(q["stop_time"]) if q.get("stop_time") else 2**31
            limit = int(q.get("limit") or 500)
            after = int(q.get("after") or 0)
        except ValueError:
            return _graph_error("start_time, stop_time, limit must be integers")
        if not 1 <= limit <= 1000:
            return _graph_error("limit must be 1..1000")
        types = set(q["types"].split(",")) if q.get("types") else None
        selected = [
            u
            for u in sorted(state.updates, key=lambda u: (u["last_updated"], u["id"]))
            if start <= u["last_updated"] < stop and (types is None or u["type"] in types)
        ]
        page = selected[after : after + limit]
        body: dict[str, Any] = {"data": page, "paging": {}}
        if after + limit < len(selected):
            params = dict(q)
            params["after"] = str(after + limit)
            from urllib.parse import urlencode

            body["paging"]["next"] = f"{base_url_ref[0]}/{group}/threat_updates/?{urlencode(params)}"
        return JSONResponse(body)

    @app.post("/v26.0/threat_descriptors/")
    async def upload(request: Request) -> Response:
        q = request.query_params
        if q.get("access_token") != state.token:
            return _graph_error("Invalid OAuth access token.", 190, 401)
        missing = [k for k in upload_required if not q.get(k)]
        if missing:
            return _graph_error(f"missing {', '.join(missing)}")
        if q["privacy_type"] == "HAS_PRIVACY_GROUP" and q.get("privacy_members") != str(state.privacy_group):
            return _graph_error("privacy_members must name a privacy group you belong to")
        state.uploads.append({k: q[k] for k in q if k != "access_token"})
        return JSONResponse({"success": True, "id": str(900000 + len(state.uploads))})

    return app
