"""StopNCII (stopncii.org): fetch hashes with cursor paging, submit hashes, submit feedback.

Built on python-threatexchange's `StopNCIIAPI` (its session, auth headers and retries), with
three fixes made here, in Amparo's adapter:

* withdrawals: pytx's `_get_delta_mapping` compares `hashValue` (not `hashStatus`) with
  Withdrawn/Deleted, so a hash a person withdrew is never removed. Here `hashStatus` decides:
  Withdrawn or Deleted becomes a removal.
* VideoTMK is not mapped by pytx; Amparo holds no TMK signal, so it is skipped explicitly
  (counted as `unsupported`). ImagePDQ → pdq, VideoMD5 → md5; Text and URL are skipped too.
* `StopNCIIAPI.submit_hashes` sends `str(signal_type)` ("StopNCIISignalType.ImagePDQ"), not the
  wire name; submissions here send the enum's value ("ImagePDQ").

pytx's `fetch_hashes` also drops records it cannot parse with only a log line; the adapter parses
the raw page itself so every malformed record is counted and sampled by the sync engine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from amparo.banks.exchanges.base import ExchangeType, Feedback, NotSupported, Page, Record, secret

WIRE_TO_SIGNAL = {"ImagePDQ": "pdq", "VideoMD5": "md5"}
SIGNAL_TO_WIRE = {"pdq": "ImagePDQ", "md5": "VideoMD5"}
KNOWN_TYPES = ("ImagePDQ", "VideoMD5", "VideoTMK", "Text", "URL", "Unknown")
GONE = ("Withdrawn", "Deleted")
STATUSES = ("Unknown", "Received", "Active", "Withdrawn", "Deleted")
FEEDBACK_VALUES = {"seen": "PendingReview", "confirmed": "Blocked", "false_positive": "NotBlocked"}


def parse_record(raw: Any) -> Record | dict[str, Any]:
    """A StopNCII hash record as a Record, or {reason, record} when malformed."""
    from amparo.banks.exchanges.validation import sample

    if not isinstance(raw, dict):
        return {"reason": "record is not an object", "record": sample(raw)}
    stype, value, status = raw.get("signalType"), raw.get("hashValue"), raw.get("hashStatus")
    if stype not in KNOWN_TYPES or not isinstance(value, str) or status not in STATUSES:
        return {"reason": "missing or unknown signalType, hashValue or hashStatus", "record": sample(raw)}
    cases = raw.get("caseNumbers")
    meta = {"stopncii_status": status, "cases": len(cases) if isinstance(cases, (dict, list)) else 0}
    if stype not in WIRE_TO_SIGNAL:
        return Record("add", stype, value, unsupported=True)
    # The pytx defect fixed: the status field (hashStatus), not hashValue, says it was withdrawn.
    op = "remove" if status in GONE else "add"
    return Record(op, WIRE_TO_SIGNAL[stype], value, "positive", None, meta)


class StopNCIIClient:
    def __init__(self, config: dict[str, Any]) -> None:
        from threatexchange.exchanges.clients.stopncii.api import StopNCIIAPI, StopNCIIEndpoint

        keys = {}
        for endpoint, key in (
            (StopNCIIEndpoint.SubmitHashes, "submit_key_env"),
            (StopNCIIEndpoint.SubmitFeedback, "feedback_key_env"),
        ):
            if config.get(key):
                keys[endpoint] = secret(config, key)
        self.endpoints = StopNCIIEndpoint
        self.api = StopNCIIAPI(
            secret(config, "subscription_key_env"),
            secret(config, "fetch_key_env"),
            additional_function_keys=keys,
            base_url_override=config.get("base_url") or None,
        )
        self.page_size = int(config.get("page_size", 800))
        self.start = int(config.get("start_timestamp", StopNCIIAPI.DEFAULT_START_TIME))

    def fetch(self, cursor: Any) -> Iterator[Page]:
        """Cursor: {"start": the set's startTimestamp, "token": nextPageToken within it or None}.
        When a set is played out the next run starts at its nextSetTimestamp."""
        cur = dict(cursor or {"start": self.start, "token": None})
        while True:
            params: dict[str, Any] = {"startTimestamp": cur["start"], "pageSize": self.page_size}
            if cur.get("token"):
                params["nextPageToken"] = cur["token"]
            body = self.api._get(self.endpoints.FetchHashes, **params)
            if not isinstance(body, dict) or not isinstance(body.get("hashRecords", []), list):
                raise ValueError("StopNCII FetchHashes returned no hashRecords list")
            records: list[Record] = []
            malformed: list[dict[str, Any]] = []
            for raw in body.get("hashRecords") or []:
                parsed = parse_record(raw)
                (records if isinstance(parsed, Record) else malformed).append(parsed)  # type: ignore[arg-type]
            more = bool(body.get("hasMoreRecords")) and bool(body.get("nextPageToken"))
            if more:
                cur = {"start": cur["start"], "token": body["nextPageToken"]}
            else:
                cur = {"start": int(body.get("nextSetTimestamp") or cur["start"]), "token": None}
            yield Page(records, dict(cur), malformed)
            if not more:
                return

    def submit(self, records: list[Record]) -> int:
        now = int(time.time())
        out = []
        for r in records:
            wire = SIGNAL_TO_WIRE.get(r.signal_type)
            if wire is None:
                raise NotSupported(f"StopNCII takes {', '.join(SIGNAL_TO_WIRE)} hashes, not {r.signal_type}")
            out.append(
                {
                    "lastModtimestamp": now,
                    "signalType": wire,  # pytx sends str(enum) here: the fix
                    "hashValue": r.value,
                    "CSPFeedbacks": [{"tags": [], "feedbackValue": "Blocked"}],
                }
            )
        if out:
            self.api._post(self.endpoints.SubmitHashes, json={"count": len(out), "hashRecords": out})
        return len(out)

    def feedback(self, items: list[Feedback]) -> int:
        from threatexchange.exchanges.clients.stopncii.api import (
            StopNCIICSPFeedback,
            StopNCIICSPFeedbackValue,
            StopNCIISignalType,
        )

        batch = {}
        for f in items:
            if f.kind not in FEEDBACK_VALUES or f.signal_type not in SIGNAL_TO_WIRE:
                raise NotSupported(f"no StopNCII feedback for {f.kind} on {f.signal_type}")
            key = (StopNCIISignalType(SIGNAL_TO_WIRE[f.signal_type]), f.value)
            batch[key] = StopNCIICSPFeedback(StopNCIICSPFeedbackValue(FEEDBACK_VALUES[f.kind]), set())
        if batch:
            self.api.submit_feedbacks(batch)
        return len(batch)


EXCHANGE_TYPE = ExchangeType(
    name="stopncii",
    description="StopNCII.org: people's own NCII hashes (PDQ, video MD5); withdrawals honoured",
    build=lambda config, service: StopNCIIClient(config),
    required=("subscription_key_env", "fetch_key_env"),
    secrets=("subscription_key_env", "fetch_key_env", "submit_key_env", "feedback_key_env"),
)
