"""The evidence package for prosecutors and law enforcement: one ZIP for a case, an account or a time range.

Building it places a legal hold on every item, then writes the items (decrypted, or sealed to the
recipient's X25519 public key), the decision records (verdicts, reviewer decisions, appeals), the
generation ledger records with their decrypted prompts, the chain-of-custody excerpt of the audit trail
with the signing public key and a freshly signed checkpoint, and a summary PDF in Spanish and English.
`SHA256SUMS` lists every file and is signed (Ed25519, `SHA256SUMS.sig`) with the audit key, so the package
is checked with sha256sum and openssl alone (docs/reports.md), or with `amparo evidence verify-package`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from amparo.audit import names
from amparo.audit.canonical import canonical_json
from amparo.audit.signing import public_hex
from amparo.errors import BadInput, NotFound
from amparo.reports.exporters import PACKAGE_BUILT
from amparo.reports.package_summary import summary_pdf
from amparo.reports.record import case_record, utc
from amparo.store import reports_repo
from amparo.store.database import Database
from amparo.store.tables_events import GenerationRow

FORMAT = "amparo-evidence-package/1"
SEAL_INFO = b"amparo-package-seal/1"
HOLD_DAYS = 365
EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


@dataclass(frozen=True)
class Scope:
    case_id: int | None = None
    account: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def check(self) -> None:
        given = sum(x is not None for x in (self.case_id, self.account)) + (self.start is not None)
        if given != 1 or (self.start is None) != (self.end is None):
            raise BadInput("choose one scope: a case, an account, or a time range (start and end)", code="bad_scope")

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "account": self.account,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }


def load_recipient_key(pem: bytes) -> X25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as e:
        raise BadInput(f"recipient key is not a PEM public key: {e}", code="bad_recipient_key") from e
    if not isinstance(key, X25519PublicKey):
        raise BadInput("the recipient key must be an X25519 public key", code="bad_recipient_key")
    return key


def seal_to(recipient: X25519PublicKey, data: bytes, aad: bytes) -> bytes:
    """ephemeral X25519 public key (32) ‖ nonce (12) ‖ AES-256-GCM ciphertext; key = HKDF-SHA256(ECDH)."""
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=eph_pub, info=SEAL_INFO).derive(eph.exchange(recipient))
    nonce = os.urandom(12)
    return eph_pub + nonce + AESGCM(key).encrypt(nonce, data, aad)


def unseal_with(private: X25519PrivateKey, blob: bytes, aad: bytes) -> bytes:
    eph_pub, nonce, ct = blob[:32], blob[32:44], blob[44:]
    shared = private.exchange(X25519PublicKey.from_public_bytes(eph_pub))
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=eph_pub, info=SEAL_INFO).derive(shared)
    return AESGCM(key).decrypt(nonce, ct, aad)


def _case_ids(session: Any, scope: Scope) -> list[int]:
    if scope.case_id is not None:
        if reports_repo.get_case(session, case_id=scope.case_id) is None:
            raise NotFound(f"no case {scope.case_id}")
        return [scope.case_id]
    if scope.account is not None:
        return [c.id for c in reports_repo.cases_for_account(session, account=scope.account)]
    assert scope.start is not None and scope.end is not None
    return [c.id for c in reports_repo.cases_between(session, start=scope.start, end=scope.end)]


def _ledger(row: GenerationRow, read_prompt: Callable[[GenerationRow], str | None] | None) -> dict[str, Any]:
    prompt = None
    if read_prompt is not None and row.prompt_ciphertext is not None:
        prompt = read_prompt(row)
    return {
        "generation_id": row.generation_id,
        "created_at": (utc(row.created_at) or datetime.now(UTC)).isoformat(),
        "account": row.account,
        "operation": row.operation,
        "model": row.model,
        "decision": row.decision,
        "stage": row.stage,
        "reasons": row.reasons,
        "input_hashes": row.input_hashes,
        "outputs": row.outputs,
        "prompt": prompt,
    }


def _audit_dict(r: Any) -> dict[str, Any]:
    return {
        "seq": r.seq,
        "created_at": r.created_at,
        "actor": r.actor,
        "actor_role": r.actor_role,
        "action": r.action,
        "subject_type": r.subject_type,
        "subject_id": r.subject_id,
        "details": r.details if r.details is not None else {},
        "prev_hash": r.prev_hash,
        "hash": r.hash,
        "key_id": r.key_id,
        "signature": r.signature,
    }


def build_package(
    *,
    db: Database,
    vault: Any,
    audit: Any,
    scope: Scope,
    actor: str,
    actor_role: str,
    purpose: str,
    recipient: X25519PublicKey | None = None,
    read_prompt: Callable[[GenerationRow], str | None] | None = None,
    hold_days: int = HOLD_DAYS,
) -> tuple[str, bytes]:
    """Build the package; returns (package id, ZIP bytes). Everything it reads is in the audit trail."""
    scope.check()
    if not purpose.strip():
        raise BadInput("a purpose is required (the order or request the package answers)", code="purpose_required")
    pkg_id = uuid.uuid4().hex[:16]
    files: dict[str, bytes] = {}
    with db.session() as s:
        case_ids = _case_ids(s, scope)
        evidence = reports_repo.evidence_for_cases(s, case_ids=case_ids)
        if scope.start is not None and scope.end is not None:
            seen = {e.ref for e in evidence}
            evidence += [
                e for e in reports_repo.evidence_between(s, start=scope.start, end=scope.end) if e.ref not in seen
            ]
        if not case_ids and not evidence:
            raise NotFound("nothing in that scope: no case and no preserved item")
        refs = [e.ref for e in evidence]
    # 1. the legal hold, before anything is read
    with db.session() as s:
        for ref in refs:
            vault.place_hold(
                s,
                ref=ref,
                reason=f"evidence package {pkg_id}: {purpose[:200]}",
                ends_at=datetime.now(UTC) + timedelta(days=hold_days),
                actor=actor,
                actor_role=actor_role,
                authority=purpose[:200],
            )
    # 2. the items
    items = []
    for ref in refs:
        with db.session() as s:
            row, content = vault.read(
                s,
                ref=ref,
                actor=actor,
                actor_role=actor_role,
                purpose=f"evidence package {pkg_id}",
                action=names.EVIDENCE_EXPORT,
            )
            name = f"items/{ref}.{EXT.get(row.media_type, 'bin')}"
            entry = {"ref": ref, "item_id": row.item_id, "case_id": row.case_id, "event_id": row.event_id,
                     "media_type": row.media_type, "size": row.size, "sha256": row.sha256, "sha1": row.sha1,
                     "md5": row.md5, "pdq": row.pdq,
                     "captured_at": (utc(row.created_at) or datetime.now(UTC)).isoformat()}  # fmt: skip
        if recipient is not None:
            name += ".sealed"
            files[name] = seal_to(recipient, content, ref.encode())
            entry["sealed"] = True
        else:
            files[name] = content
        entry["file"] = name
        items.append(entry)
    # 3. decision records, ledger, custody
    with db.session() as s:
        records = [case_record(s, case_id=cid).to_dict() for cid in case_ids]
        gens = reports_repo.generations_for_outputs(s, sha256s=[i["sha256"] for i in items])
        if scope.account is not None:
            have = {g.generation_id for g in gens}
            gens += [
                g for g in reports_repo.generations_for_account(s, account=scope.account) if g.generation_id not in have
            ]
        ledger = [_ledger(g, read_prompt) for g in gens]
        custody = reports_repo.subject_records(s, subject_type="evidence", subject_ids=refs)
        custody += reports_repo.subject_records(s, subject_type="case", subject_ids=[str(c) for c in case_ids])
        custody.sort(key=lambda r: r.seq)
        checkpoint = audit.checkpoint(s, actor=actor)
    files["records/decisions.json"] = json.dumps(records, indent=1, sort_keys=True, default=str).encode()
    files["records/items.json"] = json.dumps(items, indent=1, sort_keys=True).encode()
    files["records/ledger.json"] = json.dumps(ledger, indent=1, sort_keys=True, default=str).encode()
    files["custody/audit_excerpt.jsonl"] = b"".join(canonical_json(_audit_dict(r)) + b"\n" for r in custody)
    body = {k: checkpoint[k] for k in ("format", "seq", "hash", "created_at", "key_id")}
    files["custody/checkpoint.json"] = json.dumps(checkpoint, indent=1, sort_keys=True).encode()
    files["custody/checkpoint_body.json"] = canonical_json(body)  # the exact signed bytes
    files["custody/checkpoint.sig"] = bytes.fromhex(checkpoint["signature"])
    pub = audit.signer.public
    files["keys/audit_ed25519_public.pem"] = pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    files["keys/audit_ed25519_public.hex"] = (public_hex(pub) + "\n").encode()
    created = datetime.now(UTC).isoformat(timespec="seconds")
    manifest = {
        "format": FORMAT,
        "package_id": pkg_id,
        "created_at": created,
        "created_by": actor,
        "purpose": purpose,
        "scope": scope.to_dict(),
        "sealed_to_recipient": recipient is not None,
        "audit_key_id": audit.key_id,
        "checkpoint": {"seq": checkpoint["seq"], "hash": checkpoint["hash"]},
        "counts": {"cases": len(case_ids), "items": len(items), "ledger": len(ledger), "custody": len(custody)},
    }
    files["summary.pdf"] = summary_pdf(manifest, records, items, ledger)
    files["manifest.json"] = json.dumps(
        {**manifest, "files": {n: hashlib.sha256(b).hexdigest() for n, b in sorted(files.items())}},
        indent=1,
        sort_keys=True,
    ).encode()
    sums = "".join(f"{hashlib.sha256(b).hexdigest()}  {n}\n" for n, b in sorted(files.items())).encode()
    files["SHA256SUMS"] = sums
    files["SHA256SUMS.sig"] = bytes.fromhex(audit.signer.sign(sums))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in sorted(files.items()):
            z.writestr(n, b, compress_type=zipfile.ZIP_STORED if n.startswith("items/") else zipfile.ZIP_DEFLATED)
    with db.session() as s:
        audit.record(
            s,
            action=PACKAGE_BUILT,
            subject_type="package",
            subject_id=pkg_id,
            actor=actor,
            actor_role=actor_role,
            details={
                "scope": scope.to_dict(),
                "purpose": purpose[:200],
                "items": refs,
                "sums_sha256": hashlib.sha256(sums).hexdigest(),
                "sealed": recipient is not None,
            },
        )
    return pkg_id, buf.getvalue()
