"""Meta ThreatExchange (Graph API): pull a privacy group's threat updates, push our hashes as
threat descriptors. Built on python-threatexchange's `ThreatExchangeAPI`.

Pull: `/{privacy_group}/threat_updates` between `start_time` and `stop_time`, following
`paging.next`; `should_delete` becomes a removal. HASH_PDQ → pdq, HASH_MD5 and HASH_VIDEO_MD5 →
md5, HASH_SHA1 → sha1, HASH_SHA256 → sha256; other types (TMK, URLs, text) are skipped
explicitly. The Graph API puts the access token in URLs: error texts are redacted before they are
stored or logged (sync.redact).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from amparo.banks.exchanges.base import ExchangeType, Feedback, NotSupported, Page, Record, secret

TYPES = {"HASH_PDQ": "pdq", "HASH_MD5": "md5", "HASH_VIDEO_MD5": "md5", "HASH_SHA1": "sha1", "HASH_SHA256": "sha256"}
TO_TYPE = {"pdq": "HASH_PDQ", "md5": "HASH_MD5", "sha1": "HASH_SHA1", "sha256": "HASH_SHA256"}


class ThreatExchangeClient:
    def __init__(self, config: dict[str, Any]) -> None:
        from threatexchange.exchanges.clients.fb_threatexchange.api import ThreatExchangeAPI

        self.api = ThreatExchangeAPI(secret(config, "token_env"), endpoint_override=config.get("base_url") or None)
        self.group = int(config["privacy_group"])
        self.page_size = int(config.get("page_size", 500))
        self.start = int(config.get("start_timestamp", 0))
        self.share_level = str(config.get("share_level", "AMBER"))

    def fetch(self, cursor: Any) -> Iterator[Page]:
        """Cursor: {"start": ts, "stop": ts or None, "next": paging URL within the window or None}."""
        from threatexchange.exchanges.clients.fb_threatexchange.api import _CursoredResponse

        cur = dict(cursor or {"start": self.start, "stop": None, "next": None})
        stop = int(cur.get("stop") or time.time())
        if cur.get("next"):
            pages = _CursoredResponse(self.api, cur["next"], {})
        else:
            pages = self.api.get_threat_updates(
                self.group, start_time=int(cur["start"]), stop_time=stop, types=sorted(TYPES), page_size=self.page_size
            )
        while not pages.done:
            data = pages.next()
            records: list[Record] = []
            malformed: list[dict[str, Any]] = []
            for d in data:
                if not isinstance(d, dict) or not isinstance(d.get("indicator"), str) or "type" not in d:
                    malformed.append(
                        {"reason": "threat update without indicator or type", "record": {"raw": str(d)[:200]}}
                    )
                    continue
                st = TYPES.get(str(d["type"]))
                if st is None:
                    records.append(Record("add", str(d["type"]), d["indicator"], unsupported=True))
                    continue
                op = "remove" if d.get("should_delete") else "add"
                records.append(Record(op, st, d["indicator"], "positive", f"te:{d.get('id')}", {"te_id": d.get("id")}))
            if pages.done:
                yield Page(records, {"start": stop, "stop": None, "next": None}, malformed)
            else:
                yield Page(records, {"start": int(cur["start"]), "stop": stop, "next": pages.next_url}, malformed)

    def submit(self, records: list[Record]) -> int:
        n = 0
        for r in records:
            t = TO_TYPE.get(r.signal_type)
            if t is None:
                raise NotSupported(f"ThreatExchange upload of {r.signal_type} is not mapped")
            params = {
                "indicator": r.value,
                "type": t,
                "description": r.metadata.get("description", "shared by Amparo") if r.metadata else "shared by Amparo",
                "share_level": self.share_level,
                "status": "MALICIOUS",
                "privacy_type": "HAS_PRIVACY_GROUP",
                "privacy_members": str(self.group),
            }
            err, _ex, body = self.api.upload_threat_descriptor(params, False, False)
            if err or not isinstance(body, dict) or not body.get("success"):
                raise RuntimeError(f"ThreatExchange refused the upload: {err or str(body)[:200]}")
            n += 1
        return n

    def feedback(self, items: list[Feedback]) -> int:
        raise NotSupported("ThreatExchange reactions need descriptor ids; not wired in this adapter")


EXCHANGE_TYPE = ExchangeType(
    name="threatexchange",
    description="Meta ThreatExchange: a privacy group's hashes (pull) and our hashes as descriptors (push)",
    build=lambda config, service: ThreatExchangeClient(config),
    required=("token_env", "privacy_group"),
    secrets=("token_env",),
)
