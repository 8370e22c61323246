"""NCMEC hash sharing (the v2 XML API): pull entries with paging, and vote on fingerprints.

Built on python-threatexchange's `NCMECHashAPI` (basic auth, XML parsing, paging URLs, the
feedback PUTs). Its environments are a fixed enum of NCMEC hosts; `base_url` in the config
overrides the host (a test environment, a proxy, the local stand-in).

Mapping (what Amparo holds): image MD5 → md5, image SHA1 → sha1, image PDQ → pdq, video MD5 → md5.
PhotoDNA, TMK+PDQF, NetClean, Videntifier and SSVH fingerprints are skipped explicitly (counted
as `unsupported`). A deleted entry carries no fingerprints: it removes every entry Amparo holds
under that NCMEC entry (external id `<member id>:<entry id>`).

Entries are not returned in time order (TE issue #1105): the cursor stores the whole range being
fetched and the paging URL inside it, and moves `from` forward only when a range is exhausted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from amparo.banks.exchanges.base import ExchangeType, Feedback, NotSupported, Page, Record, secret

FINGERPRINTS = {("image", "md5"): "md5", ("image", "sha1"): "sha1", ("image", "pdq"): "pdq", ("video", "md5"): "md5"}
TO_FINGERPRINT = {"md5": "MD5", "sha1": "SHA1", "pdq": "PDQ"}


class NCMECClient:
    def __init__(self, config: dict[str, Any]) -> None:
        from threatexchange.exchanges.clients.ncmec.hash_api import NCMECEnvironment, NCMECHashAPI

        env = NCMECEnvironment[config.get("environment", "Industry")]
        self.api = NCMECHashAPI(secret(config, "username_env"), secret(config, "password_env"), env)
        if config.get("base_url"):
            self.api._base_url = str(config["base_url"]).rstrip("/")
        self.start = int(config.get("start_timestamp", 0))
        self.reason_guid = config.get("negative_reason_guid")

    def fetch(self, cursor: Any) -> Iterator[Page]:
        """Cursor: {"from": ts, "to": ts or None, "next": paging URL within the range or ""}."""
        cur = dict(cursor or {"from": self.start, "to": None, "next": ""})
        end = int(cur.get("to") or time.time())
        nxt = str(cur.get("next") or "")
        while True:
            resp = self.api.get_entries(start_timestamp=int(cur["from"]), end_timestamp=end, next_=nxt)
            records: list[Record] = []
            for e in resp.updates:
                ext = f"{e.member_id}:{e.id}"
                if e.deleted:
                    records.append(Record("remove", "", "", external_id=ext))
                    continue
                meta = {"ncmec_member": e.member_id, "classification": e.classification}
                for fp, value in e.fingerprints.items():
                    st = FINGERPRINTS.get((e.entry_type.value, fp.lower()))
                    if st is None:
                        records.append(Record("add", fp, value, unsupported=True))
                    else:
                        records.append(Record("add", st, value, "positive", ext, meta))
            nxt = resp.next or ""
            if nxt:
                yield Page(records, {"from": int(cur["from"]), "to": end, "next": nxt})
            else:
                yield Page(records, {"from": end, "to": None, "next": ""})
                return

    def submit(self, records: list[Record]) -> int:
        raise NotSupported("NCMEC hash sharing takes submissions through its own portal, not this API")

    def feedback(self, items: list[Feedback]) -> int:
        from threatexchange.exchanges.clients.ncmec.hash_api import FeedbackType, FingerprintType

        n = 0
        for f in items:
            if f.kind == "seen":
                continue  # NCMEC has no "seen" vote
            fp = TO_FINGERPRINT.get(f.signal_type)
            if fp is None or not f.external_id or ":" not in f.external_id:
                raise NotSupported(f"no NCMEC feedback for {f.signal_type} without its entry id")
            esp, entry = f.external_id.split(":", 1)
            vote = FeedbackType.upvote if f.kind == "confirmed" else FeedbackType.downvote
            self.api.submit_feedback(int(esp), entry, FingerprintType(fp), vote, self.reason_guid)
            n += 1
        return n


EXCHANGE_TYPE = ExchangeType(
    name="ncmec",
    description="NCMEC hash sharing (v2 XML API): image MD5/SHA1/PDQ and video MD5; votes",
    build=lambda config, service: NCMECClient(config),
    required=("username_env", "password_env"),
    secrets=("username_env", "password_env"),
)
