"""The generation ledger's storage rules: encrypted prompts, keyed request hashes, retention."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from amparo.proxy.ledger import (
    GenerationLedger,
    LedgerEntry,
    LedgerKeys,
    OutputRecord,
    PromptUnreadable,
    new_generation_id,
    new_watermark_id,
)
from amparo.proxy.media_store import MediaStore
from amparo.service import Service
from amparo.store.tables_events import GenerationOutputRow, GenerationRow


def entry(prompt: str = "a red kite", *, returned: bool = True) -> LedgerEntry:
    gid = new_generation_id()
    return LedgerEntry(
        generation_id=gid,
        operation="generation",
        account="acct-1",
        request_hash="0" * 64,
        decision="allow",
        stage="output",
        prompt=prompt,
        outputs=[
            OutputRecord(
                index=0,
                sha256="a" * 64,
                pdq="f" * 64,
                pdq_centre="e" * 64,
                watermark_id=new_watermark_id(),
                decision="allow",
                returned=returned,
            )
        ],
    )


def test_prompt_encryption_and_keyed_hashes() -> None:
    k1, k2 = LedgerKeys(b"\x01" * 32), LedgerKeys(b"\x02" * 32)
    blob = k1.encrypt_prompt("a red kite over the sea", "gen_1")
    assert b"kite" not in blob and blob != k1.encrypt_prompt("a red kite over the sea", "gen_1")  # fresh nonce
    assert k1.decrypt_prompt(blob, "gen_1") == "a red kite over the sea"
    with pytest.raises(PromptUnreadable):
        k2.decrypt_prompt(blob, "gen_1")  # another master key
    with pytest.raises(PromptUnreadable):
        k1.decrypt_prompt(blob, "gen_2")  # moved to another row
    with pytest.raises(PromptUnreadable):
        k1.decrypt_prompt(b"\x09garbage", "gen_1")
    req = {"prompt": "a red kite", "n": 1}
    assert k1.request_hash(req) == k1.request_hash(dict(reversed(req.items())))
    assert k1.request_hash(req) != k2.request_hash(req)
    assert k1.account_pseudonym("acct") != k2.account_pseudonym("acct") and "acct" not in k1.account_pseudonym("acct")
    assert 0 <= new_watermark_id() < 2**63


def test_record_read_and_purge(service) -> None:  # type: ignore[no-untyped-def]
    """Runs on SQLite and PostgreSQL."""
    ledger = GenerationLedger.for_service(service)
    assert ledger.retention_days == service.policy.retention.ledger_days == 365
    old, fresh, refused = entry("old one"), entry("fresh one"), entry("refused one", returned=False)
    ledger.record(old, now=datetime.now(UTC) - timedelta(days=400))
    ledger.record(fresh)
    ledger.record(refused)
    assert ledger.read_prompt(fresh.generation_id) == "fresh one"
    rec = ledger.get(fresh.generation_id)
    assert rec is not None and rec["account"] == "acct-1" and rec["watermark_id"] == fresh.outputs[0].watermark_id
    assert ledger.outputs_by_watermark(fresh.outputs[0].watermark_id) == [(fresh.generation_id, 0)]
    assert sorted(ledger.outputs_by_sha256("a" * 64)) == sorted([(old.generation_id, 0), (fresh.generation_id, 0)])
    assert ledger.output_pdqs()[0][3] == "e" * 64
    assert ledger.purge_expired() == 1
    assert ledger.get(old.generation_id) is None and ledger.get(fresh.generation_id) is not None
    with service.db.session() as s:
        assert s.query(GenerationOutputRow).filter_by(generation_id=old.generation_id).count() == 0
        assert s.query(GenerationRow).count() == 2
    assert ledger.purge_expired(now=datetime.now(UTC) + timedelta(days=366)) == 2


def test_retention_follows_the_profile(sqlite_settings) -> None:  # type: ignore[no-untyped-def]
    sqlite_settings.profile = "eu-es"
    with Service(sqlite_settings, load_detectors=False) as svc:
        assert GenerationLedger.for_service(svc).retention_days == 180


def test_media_store_tokens_expire(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = MediaStore(tmp_path / "media", ttl_seconds=60)
    token = store.put(b"\x89PNG fake")
    assert store.get(token) == b"\x89PNG fake"
    assert not list((tmp_path / "media").glob(token + "*"))  # the token is not the file name
    assert store.get("../../etc/passwd") is None and store.get("A" * 43) is None
    path = next((tmp_path / "media").glob("*.bin"))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    past = time.time() - 120
    os.utime(path, (past, past))
    assert store.get(token) is None and not path.exists()
