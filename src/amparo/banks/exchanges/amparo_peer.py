"""Amparo-to-Amparo: pull a bank another Amparo instance publishes to us (publishing.py there).

Config: `base_url`, `key_env` (the environment variable holding our partner key there),
`remote_bank`, `public_key` (the partner's exchange public key, hex, pinned; not a secret),
`page_size`. Every page's signature is checked against the pinned key before anything applies.
Feedback ("seen", "false_positive", "confirmed") goes back to the publisher.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from amparo.banks.exchanges.base import ExchangeType, Feedback, NotSupported, Page, Record, secret
from amparo.banks.exchanges.publishing import verify_page
from amparo.banks.exchanges.validation import sample

TIMEOUT_S = 60.0


class AmparoPeerClient:
    def __init__(self, config: dict[str, Any]) -> None:
        self.base = str(config["base_url"]).rstrip("/")
        self.bank = str(config["remote_bank"])
        self.public_key = str(config["public_key"])
        self.page_size = int(config.get("page_size", 1000))
        self.headers = {"Authorization": f"Bearer {secret(config, 'key_env')}"}

    def _url(self, tail: str) -> str:
        return f"{self.base}/v1/exchange/banks/{self.bank}/{tail}"

    def fetch(self, cursor: Any) -> Iterator[Page]:
        seq = int(cursor or 0)
        with httpx.Client(timeout=TIMEOUT_S, headers=self.headers) as http:
            while True:
                r = http.get(self._url("changes"), params={"cursor": seq, "limit": self.page_size})
                r.raise_for_status()
                page = r.json()
                verify_page(page, self.public_key)
                if page.get("cursor") != seq:
                    raise ValueError(f"partner answered for cursor {page.get('cursor')}, asked {seq}")
                records: list[Record] = []
                malformed: list[dict[str, Any]] = []
                for raw in page.get("records", []):
                    if not isinstance(raw, dict) or not all(
                        isinstance(raw.get(k), str) for k in ("op", "signal_type", "value")
                    ):
                        malformed.append({"reason": "record lacks op, signal_type or value", "record": sample(raw)})
                        continue
                    records.append(
                        Record(raw["op"], raw["signal_type"], raw["value"], raw.get("opinion") or "positive")
                    )
                seq = int(page["next_cursor"])
                yield Page(records, seq, malformed)
                if not page.get("has_more"):
                    return

    def submit(self, records: list[Record]) -> int:
        raise NotSupported("Amparo partners pull: publish the bank to them instead (amparo exchanges partners add)")

    def feedback(self, items: list[Feedback]) -> int:
        with httpx.Client(timeout=TIMEOUT_S, headers=self.headers) as http:
            for f in items:
                r = http.post(
                    self._url("feedback"),
                    json={"signal_type": f.signal_type, "value": f.value, "kind": f.kind, "note": f.note},
                )
                r.raise_for_status()
        return len(items)


EXCHANGE_TYPE = ExchangeType(
    name="amparo",
    description="Another Amparo instance publishing a bank to us (signed pages, tombstones)",
    build=lambda config, service: AmparoPeerClient(config),
    required=("base_url", "key_env", "remote_bank", "public_key"),
    secrets=("key_env",),
)
