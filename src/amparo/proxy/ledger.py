"""The generation ledger: one row per request through the proxy, allowed, refused or failed.

Stored per row (tables `generations` and `generation_outputs`, migrations 0001_core and
0003_generation): time, account, operation, a keyed request hash, the prompt encrypted with
AES-256-GCM, decision, the stage that decided, reasons, input image hashes, and per returned
image its SHA-256, PDQ, PDQ of its central 80 % and watermark id. The prompt key and the
request-hash key are derived (HKDF-SHA256) from the master key (Settings.master_key_file /
master_key; in dev without one, the 0600 key file in keys_dir that the evidence vault uses
too), so nothing secret is stored in the database. The request hash is an HMAC, not a bare
SHA-256: a bare hash of a short prompt could be reversed by guessing. Rows expire after the
policy profile's `retention.ledger_days`; `purge_expired` deletes them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select

from amparo.errors import AmparoError, ConfigurationError
from amparo.evidence.master_key import load_master_key
from amparo.settings import Settings
from amparo.store.database import Database
from amparo.store.tables_events import GenerationOutputRow, GenerationRow

PROMPT_KEY_INFO = b"amparo-ledger-prompt/1"
REQUEST_HASH_KEY_INFO = b"amparo-ledger-request-hash/1"
ACCOUNT_PSEUDONYM_INFO = b"amparo-ledger-account-pseudonym/1"
CIPHER_VERSION = b"\x01"
NONCE_BYTES = 12
GENERATION_ID_PREFIX = "gen_"
WATERMARK_ID_BITS = 63  # stored in a signed BIGINT; the watermark carries 64 bits


class PromptUnreadable(AmparoError):
    code = "prompt_unreadable"
    status = 500


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


class LedgerKeys:
    """Keys derived from the master key; the master key itself is not kept."""

    def __init__(self, master: bytes) -> None:
        if len(master) != 32:
            raise ConfigurationError("the ledger needs a 32-byte master key")
        self._aead = AESGCM(_derive(master, PROMPT_KEY_INFO))
        self._mac = _derive(master, REQUEST_HASH_KEY_INFO)
        self._pseudonym = _derive(master, ACCOUNT_PSEUDONYM_INFO)

    @classmethod
    def from_settings(cls, settings: Settings) -> LedgerKeys:
        return cls(load_master_key(settings, allow_dev_key=True).key)

    def encrypt_prompt(self, prompt: str, generation_id: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        ct = self._aead.encrypt(nonce, prompt.encode("utf-8"), generation_id.encode("ascii"))
        return CIPHER_VERSION + nonce + ct

    def decrypt_prompt(self, blob: bytes, generation_id: str) -> str:
        if not blob.startswith(CIPHER_VERSION) or len(blob) < 1 + NONCE_BYTES + 16:
            raise PromptUnreadable("the stored prompt has an unknown format")
        nonce, ct = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, ct, generation_id.encode("ascii")).decode("utf-8")
        except InvalidTag:
            raise PromptUnreadable("the stored prompt does not decrypt under this master key") from None

    def request_hash(self, canonical: dict[str, Any]) -> str:
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        return hmac.new(self._mac, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def account_pseudonym(self, account: str) -> str:
        """A stable stand-in for the account, sent to the upstream as its `user` field."""
        return "amparo-" + hmac.new(self._pseudonym, account.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def new_generation_id() -> str:
    return GENERATION_ID_PREFIX + uuid.uuid4().hex


def new_watermark_id() -> int:
    return int.from_bytes(os.urandom(8), "big") >> (64 - WATERMARK_ID_BITS)


@dataclass
class OutputRecord:
    index: int
    sha256: str
    pdq: str | None
    watermark_id: int | None
    decision: str
    pdq_centre: str | None = None
    labels: list[str] = field(default_factory=list)
    returned: bool = False
    evidence_ref: str | None = None
    event_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "sha256": self.sha256,
            "pdq": self.pdq,
            "pdq_centre": self.pdq_centre,
            "watermark_id": self.watermark_id,
            "decision": self.decision,
            "labels": self.labels,
            "returned": self.returned,
            "evidence_ref": self.evidence_ref,
            "event_id": self.event_id,
        }


@dataclass
class LedgerEntry:
    generation_id: str
    operation: str
    account: str | None
    request_hash: str
    decision: str = "error"
    stage: str | None = None
    prompt: str | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    input_hashes: dict[str, Any] = field(default_factory=dict)
    outputs: list[OutputRecord] = field(default_factory=list)
    model: str | None = None


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:  # SQLite drops the zone; everything is stored in UTC
        dt = dt.replace(tzinfo=UTC)
    return dt.isoformat()


def row_to_dict(row: GenerationRow) -> dict[str, Any]:
    """A ledger row without the prompt (the prompt is only read on purpose, see decrypt)."""
    return {
        "generation_id": row.generation_id,
        "created_at": _iso(row.created_at),
        "account": row.account,
        "operation": row.operation,
        "model": row.model,
        "decision": row.decision,
        "stage": row.stage,
        "reasons": row.reasons,
        "request_hash": row.request_sha256,
        "input_hashes": row.input_hashes,
        "outputs": row.outputs,
        "watermark_id": row.watermark_id,
        "expires_at": _iso(row.expires_at),
        "prompt_stored": row.prompt_ciphertext is not None,
    }


class GenerationLedger:
    def __init__(self, db: Database, keys: LedgerKeys, *, retention_days: int) -> None:
        self.db = db
        self.keys = keys
        self.retention_days = retention_days

    @classmethod
    def for_service(cls, service: Any) -> GenerationLedger:
        return cls(
            service.db,
            LedgerKeys.from_settings(service.settings),
            retention_days=int(service.policy.retention.ledger_days),
        )

    def record(self, entry: LedgerEntry, *, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        returned = [o for o in entry.outputs if o.returned]
        row = GenerationRow(
            generation_id=entry.generation_id,
            watermark_id=next((o.watermark_id for o in returned if o.watermark_id is not None), None),
            created_at=now,
            account=entry.account[:200] if entry.account else None,
            operation=entry.operation,
            request_sha256=entry.request_hash,
            prompt_ciphertext=(
                self.keys.encrypt_prompt(entry.prompt, entry.generation_id) if entry.prompt is not None else None
            ),
            decision=entry.decision,
            stage=entry.stage,
            reasons=entry.reasons,
            input_hashes=entry.input_hashes,
            outputs=[o.to_dict() for o in entry.outputs],
            model=entry.model[:200] if entry.model else None,
            expires_at=now + timedelta(days=self.retention_days),
        )
        with self.db.session() as s:
            s.add(row)
            s.flush()  # the parent row first: outputs reference it
            for o in returned:
                s.add(
                    GenerationOutputRow(
                        generation_id=entry.generation_id,
                        output_index=o.index,
                        sha256=o.sha256,
                        pdq=o.pdq,
                        watermark_id=o.watermark_id,
                        pdq_centre=o.pdq_centre,
                    )
                )

    def finish(self, entry: LedgerEntry, *, video_frames: dict[int, list[Any]] | None = None) -> None:
        """Complete a row recorded when an asynchronous job was accepted (video generation): the
        decision, stage, reasons and outputs; returned outputs get their generation_outputs row
        and, for videos, their vPDQ frames (generation_video_frames: what trace searches)."""
        from amparo.store import video_gen_repo

        returned = [o for o in entry.outputs if o.returned]
        with self.db.session() as s:
            row = s.scalars(select(GenerationRow).where(GenerationRow.generation_id == entry.generation_id)).one()
            row.decision, row.stage, row.reasons = entry.decision, entry.stage, entry.reasons
            row.outputs = [o.to_dict() for o in entry.outputs]
            for o in returned:
                s.add(
                    GenerationOutputRow(
                        generation_id=entry.generation_id,
                        output_index=o.index,
                        sha256=o.sha256,
                        pdq=o.pdq,
                        watermark_id=o.watermark_id,
                        pdq_centre=o.pdq_centre,
                    )
                )
            for index, frames in (video_frames or {}).items():
                video_gen_repo.add_frames(s, entry.generation_id, index, frames)

    def get(self, generation_id: str) -> dict[str, Any] | None:
        """The row, with `integrity`: whether its MAC still holds ("altered": edited outside
        Amparo, so its account and decision cannot be relied on)."""
        from amparo.store import integrity_repo

        with self.db.session() as s:
            row = s.scalars(select(GenerationRow).where(GenerationRow.generation_id == generation_id)).first()
            if row is None:
                return None
            out = row_to_dict(row)
            out["integrity"] = integrity_repo.row_state(s, getattr(self.db, "sealer", None), "generations", row.id)
            return out

    def read_prompt(self, generation_id: str) -> str | None:
        with self.db.session() as s:
            row = s.scalars(select(GenerationRow).where(GenerationRow.generation_id == generation_id)).first()
            if row is None or row.prompt_ciphertext is None:
                return None
            return self.keys.decrypt_prompt(row.prompt_ciphertext, row.generation_id)

    def outputs_by_watermark(self, watermark_id: int) -> list[tuple[str, int]]:
        with self.db.session() as s:
            rows = s.execute(
                select(GenerationOutputRow.generation_id, GenerationOutputRow.output_index).where(
                    GenerationOutputRow.watermark_id == watermark_id
                )
            ).all()
        return [(r[0], int(r[1])) for r in rows]

    def outputs_by_sha256(self, sha256: str) -> list[tuple[str, int]]:
        with self.db.session() as s:
            rows = s.execute(
                select(GenerationOutputRow.generation_id, GenerationOutputRow.output_index).where(
                    GenerationOutputRow.sha256 == sha256
                )
            ).all()
        return [(r[0], int(r[1])) for r in rows]

    def output_pdqs(self) -> list[tuple[str, int, str, str | None]]:
        """(generation_id, output_index, pdq, pdq_centre) of every returned output with a PDQ."""
        with self.db.session() as s:
            rows = s.execute(
                select(
                    GenerationOutputRow.generation_id,
                    GenerationOutputRow.output_index,
                    GenerationOutputRow.pdq,
                    GenerationOutputRow.pdq_centre,
                ).where(GenerationOutputRow.pdq.is_not(None))
            ).all()
        return [(r[0], int(r[1]), str(r[2]), r[3]) for r in rows]

    def video_frames_after(self, after_id: int, *, min_quality: int = 0) -> tuple[list[Any], tuple[int, int, int]]:
        """Frames of released videos added since `after_id` (id, generation_id, output_index, pdq),
        with the table's (rows, highest id, rows above after_id) read in the same transaction."""
        from amparo.store import video_gen_repo

        with self.db.session() as s:
            rows = video_gen_repo.frames_after(s, after_id=after_id, min_quality=min_quality)
            return rows, video_gen_repo.frame_stats(s, after_id=after_id)

    def purge_expired(self, *, now: datetime | None = None) -> int:
        """Delete rows past their retention (outputs first: not every backend cascades)."""
        from amparo.store import video_gen_repo

        now = now or datetime.now(UTC)
        with self.db.session() as s:
            ids = list(s.scalars(select(GenerationRow.generation_id).where(GenerationRow.expires_at < now)))
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                video_gen_repo.delete_frames_of(s, chunk)
                s.execute(delete(GenerationOutputRow).where(GenerationOutputRow.generation_id.in_(chunk)))
                s.execute(delete(GenerationRow).where(GenerationRow.generation_id.in_(chunk)))
        return len(ids)
