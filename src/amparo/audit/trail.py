"""The audit trail: append-only records chained by SHA-256 and signed with Ed25519.

Each record's hash covers its canonical JSON including the previous record's hash, so an
edited, deleted, inserted or reordered record breaks the chain at that point, and a
recomputed hash fails the signature. The head (last seq and hash) lives in a single row that
every append updates in the same transaction as the record: appends are serialized on
SQLite and PostgreSQL alike, and a record commits or rolls back with the action it records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from amparo.audit import keyring, names
from amparo.audit.canonical import canonical_json, normalise_details, record_hash
from amparo.audit.signing import (
    AuditSigner,
    key_id_of,
    public_hex,
    public_key_from_hex,
    verify_signature,
)
from amparo.errors import BadInput
from amparo.store import audit_repo
from amparo.store.tables_audit import AuditRecordRow

CHECKPOINT_FORMAT = "amparo-audit-checkpoint/1"


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def record_signing_message(hash_hex: str) -> bytes:
    return b"amparo-audit-record/1:" + hash_hex.encode("ascii")


def record_fields(row: Any) -> dict[str, Any]:
    """The hashed fields of a stored record, as read back."""
    return {
        "seq": int(row.seq),
        "created_at": row.created_at,
        "actor": row.actor,
        "actor_role": row.actor_role,
        "action": row.action,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "details": row.details if row.details is not None else {},
        "prev_hash": row.prev_hash,
    }


def checkpoint_body(*, seq: int, hash_hex: str, created_at: str, key_id: str) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "seq": seq,
        "hash": hash_hex,
        "created_at": created_at,
        "key_id": key_id,
    }


@dataclass
class VerifyResult:
    ok: bool
    records: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None = None
    problem: str | None = None
    checkpoints_checked: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class AuditTrail:
    def __init__(self, keys_dir: Path, *, checkpoint_every: int = 1000, pinned_key_id: str | None = None) -> None:
        self.keys_dir = keys_dir
        self.signer = AuditSigner.load_or_create(keys_dir)
        self.checkpoint_every = checkpoint_every
        self.pinned_key_id = pinned_key_id or None
        self._announce_key = self.signer.created
        self._verified: tuple[int, str] | None = None  # last head this process verified

    @property
    def key_id(self) -> str:
        return self.signer.key_id

    def record(
        self,
        session: Session,
        *,
        action: str,
        subject_type: str,
        subject_id: str | int,
        actor: str = names.SYSTEM_ACTOR,
        actor_role: str = names.SYSTEM_ROLE,
        details: dict[str, Any] | None = None,
    ) -> AuditRecordRow:
        """Append one record inside the caller's transaction (it commits with the action)."""
        if self._announce_key:
            # The first record this key signs says so: key creation is a key event too.
            self._announce_key = False
            self.record(
                session,
                action=names.KEY_CREATED,
                subject_type="key",
                subject_id=self.key_id,
                details={"purpose": "audit-signing", "public_key": public_hex(self.signer.public)},
            )
        try:
            clean = normalise_details(details)
        except ValueError as e:
            raise BadInput(str(e), code="bad_audit_details") from e
        seq, prev_hash = audit_repo.claim_next_seq(session)
        fields: dict[str, Any] = {
            "seq": seq,
            "created_at": now_text(),
            "actor": str(actor)[:100],
            "actor_role": str(actor_role)[:30],
            "action": action,
            "subject_type": subject_type,
            "subject_id": str(subject_id)[:100],
            "details": clean,
            "prev_hash": prev_hash,
        }
        h = record_hash(fields)
        fields["hash"] = h
        fields["key_id"] = self.key_id
        fields["signature"] = self.signer.sign(record_signing_message(h))
        row = audit_repo.insert_record(session, record=fields)
        if self.checkpoint_every and seq % self.checkpoint_every == 0:
            self._write_checkpoint(session, seq=seq, hash_hex=h)
        return row

    # -- checkpoints ---------------------------------------------------------------------

    def _write_checkpoint(self, session: Session, *, seq: int, hash_hex: str) -> dict[str, Any]:
        created = now_text()
        body = checkpoint_body(seq=seq, hash_hex=hash_hex, created_at=created, key_id=self.key_id)
        signature = self.signer.sign(canonical_json(body))
        audit_repo.insert_checkpoint(
            session,
            checkpoint={
                "created_at": created,
                "seq": seq,
                "hash": hash_hex,
                "key_id": self.key_id,
                "signature": signature,
            },
        )
        return {**body, "public_key": public_hex(self.signer.public), "signature": signature}

    def checkpoint(self, session: Session, *, actor: str = names.SYSTEM_ACTOR) -> dict[str, Any]:
        """Sign the current head; the returned JSON is meant to be anchored outside Amparo
        (sent to a timestamping service, e-mailed to a notary, printed in a report)."""
        rec = self.record(
            session,
            action=names.AUDIT_CHECKPOINT,
            subject_type="audit",
            subject_id="head",
            actor=actor,
            actor_role=names.SYSTEM_ROLE if actor == names.SYSTEM_ACTOR else "admin",
        )
        if self.checkpoint_every and rec.seq % self.checkpoint_every == 0:
            stored = audit_repo.list_checkpoints(session, limit=1)[0]
            body = checkpoint_body(
                seq=stored.seq,
                hash_hex=stored.hash,
                created_at=stored.created_at,
                key_id=stored.key_id,
            )
            return {
                **body,
                "public_key": public_hex(self.signer.public),
                "signature": stored.signature,
            }
        return self._write_checkpoint(session, seq=rec.seq, hash_hex=rec.hash)

    # -- verification --------------------------------------------------------------------

    def trusted_keys(self, session: Session) -> dict[str, Ed25519PublicKey]:
        roots = keyring.root_keys(
            session, local=self.signer.public, pinned_key_id=self.pinned_key_id, keys_dir=self.keys_dir
        )
        return keyring.trusted_keys(session, roots)

    def verify_chain(
        self,
        session: Session,
        *,
        external_checkpoints: list[dict[str, Any]] | None = None,
        start: tuple[int, str] | None = None,
    ) -> VerifyResult:
        """The whole chain, or (start=(seq, hash) of a head verified earlier) only what follows it."""
        result = verify_chain(
            session,
            public_keys=self.trusted_keys(session),
            external_checkpoints=external_checkpoints,
            start=start,
        )
        if result.ok:
            self._verified = (result.head_seq, result.head_hash)
        return result

    def verify_incremental(self, session: Session, *, start: tuple[int, str] | None = None) -> VerifyResult:
        """From the last head verified (given, e.g. a sealed marker, or this process's own)."""
        begin = start or self._verified
        return self.verify_chain(session, start=begin)

    # -- key rotation and trust (audited admin acts) ----------------------------------------

    def rotate_key(self, session: Session, *, actor: str, reason: str = "") -> AuditSigner:
        """Record the successor key, signed by the current one; the caller commits, then calls
        `adopt` (a crash between the two leaves the old key signing, which stays trusted)."""
        new = AuditSigner.generate()
        self.record(
            session,
            action=names.AUDIT_KEY_ROTATED,
            subject_type="key",
            subject_id=new.key_id,
            actor=actor,
            actor_role="admin",
            details={
                "previous_key_id": self.key_id,
                "previous_public_key": public_hex(self.signer.public),
                "public_key": public_hex(new.public),
                "reason": reason[:500],
            },
        )
        return new

    def adopt(self, new: AuditSigner) -> None:
        new.install(self.keys_dir)
        new.created = False
        self.signer = new
        self._announce_key = False

    def trust_key(self, session: Session, *, public_key_hex: str, actor: str, reason: str) -> str:
        pub = public_key_from_hex(public_key_hex)
        kid = key_id_of(pub)
        if not reason.strip():
            raise BadInput("say why this key is trusted (--reason)", code="missing_reason")
        self.record(
            session,
            action=names.AUDIT_KEY_TRUSTED,
            subject_type="key",
            subject_id=kid,
            actor=actor,
            actor_role="admin",
            details={"public_key": public_hex(pub), "reason": reason[:500]},
        )
        return kid


def verify_chain(
    session: Session,
    *,
    public_keys: dict[str, Ed25519PublicKey],
    external_checkpoints: list[dict[str, Any]] | None = None,
    start: tuple[int, str] | None = None,
) -> VerifyResult:
    """Walk the chain (from `start`, a (seq, hash) verified before, else from the first record);
    stop at and name the first broken record."""
    head_seq, head_hash = audit_repo.read_head(session)
    expected = 1
    prev = audit_repo.ZERO_HASH
    count = 0
    hashes_at: dict[int, str] = {}
    wanted = _checkpoint_seqs(session, external_checkpoints)
    stored_cp = {int(c.seq) for c in audit_repo.list_checkpoints(session, limit=1_000_000)}

    def broken(seq: int, problem: str) -> VerifyResult:
        return VerifyResult(False, count, head_seq, head_hash, seq, problem)

    if start is not None and start[0] > 0:
        anchor = audit_repo.get_record(session, seq=start[0])
        if anchor is None or anchor.hash != start[1] or record_hash(record_fields(anchor)) != start[1]:
            return broken(start[0], f"record {start[0]} changed since it was last verified")
        expected, prev = start[0] + 1, start[1]
    for row in audit_repo.iter_records(session, after_seq=expected - 1):
        seq = int(row.seq)
        if seq != expected:
            if seq > expected:
                return broken(expected, f"record {expected} is missing (the next stored is {seq})")
            return broken(seq, f"record {seq} is out of order (expected {expected})")
        fields = record_fields(row)
        if row.prev_hash != prev:
            return broken(seq, f"record {seq} does not follow record {seq - 1} (previous hash differs)")
        if record_hash(fields) != row.hash:
            return broken(seq, f"record {seq} was altered (its content does not match its hash)")
        pub = public_keys.get(row.key_id)
        if pub is None:
            return broken(seq, f"record {seq} is signed by an unknown key {row.key_id}")
        if not verify_signature(pub, row.signature, record_signing_message(row.hash)):
            return broken(seq, f"record {seq} has an invalid signature")
        if row.action == names.AUDIT_CHECKPOINT and seq not in stored_cp:
            # checkpoint() records first, then stores the signed checkpoint in the same transaction
            return broken(seq, f"the checkpoint taken at record {seq} was deleted")
        if seq in wanted:
            hashes_at[seq] = row.hash
        prev = row.hash
        count += 1
        expected += 1
    last = expected - 1
    if head_seq > last:
        return broken(last + 1, f"record {last + 1} is missing (the head says {head_seq} records)")
    if head_seq < last:
        return broken(head_seq + 1, f"record {head_seq + 1} is beyond the recorded head {head_seq}")
    if head_seq and head_hash != prev:
        return broken(last, f"the chain head does not match record {last}")
    checked = 0
    for cp in _all_checkpoints(session, external_checkpoints):
        seq = int(cp["seq"])
        if start is not None and seq <= start[0]:
            continue
        pub = public_keys.get(cp["key_id"])
        body = checkpoint_body(seq=seq, hash_hex=cp["hash"], created_at=cp["created_at"], key_id=cp["key_id"])
        if pub is None or not verify_signature(pub, cp["signature"], canonical_json(body)):
            return broken(seq, f"checkpoint at record {seq} has an invalid signature")
        if seq > last:
            return broken(last + 1, f"record {last + 1} is missing (a checkpoint covers {seq})")
        if hashes_at.get(seq) != cp["hash"]:
            return broken(seq, f"record {seq} differs from the checkpoint taken of it")
        checked += 1
    return VerifyResult(True, count, head_seq, head_hash, None, None, checked)


def _all_checkpoints(session: Session, external: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    stored = [
        {
            "seq": c.seq,
            "hash": c.hash,
            "created_at": c.created_at,
            "key_id": c.key_id,
            "signature": c.signature,
        }
        for c in audit_repo.list_checkpoints(session, limit=1_000_000)
    ]
    out = stored + list(external or [])
    for cp in out:
        missing = {"seq", "hash", "created_at", "key_id", "signature"} - set(cp)
        if missing:
            raise BadInput(f"checkpoint lacks {sorted(missing)}", code="bad_checkpoint")
    return sorted(out, key=lambda c: int(c["seq"]))


def _checkpoint_seqs(session: Session, external: list[dict[str, Any]] | None) -> set[int]:
    return {int(c["seq"]) for c in _all_checkpoints(session, external)}
