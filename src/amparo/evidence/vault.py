"""The evidence vault: originals encrypted at rest, hashed at capture, every access recorded.

Write order (a crash anywhere leaves no item without its audit record, and no record or row
pointing at nothing):
  1. the sealed file is written and fsynced under tmp/ with a name nobody reads;
  2. the evidence row and its `evidence.capture` audit record are written in the caller's
     transaction (the same one as the pipeline's event, when called from an action);
  3. after that transaction commits, the temp file is renamed into objects/ (atomic);
     after a rollback it is removed.
At start, `recover()` finishes step 3 for committed rows (crash after commit) and removes
temp files whose row never committed (crash before commit). Deletion runs the other way
round: row → tombstone + audit record commit first, the file is removed after the commit,
and `recover()` removes object files whose ref has a tombstone.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter, ImageOps
from sqlalchemy import event
from sqlalchemy.orm import Session

from amparo.audit import names
from amparo.audit.canonical import canonical_json
from amparo.audit.signing import public_hex
from amparo.audit.trail import AuditTrail
from amparo.errors import AmparoError, BadInput, ConfigurationError, Conflict, NotFound
from amparo.evidence import sealing
from amparo.evidence.master_key import MasterKey, load_master_key
from amparo.evidence.retention import RetentionProfile, profile_for
from amparo.settings import Settings
from amparo.signals.hashes.pdq import pdq_of_bytes
from amparo.store import audit_repo, evidence_repo
from amparo.store.database import Database
from amparo.store.tables_review import EvidenceItemRow, LegalHoldRow

log = logging.getLogger(__name__)

OBJECTS_DIR = "objects"
TMP_DIR = "tmp"
TMP_SUFFIX = ".tmp"
OBJECT_SUFFIX = ".bin"
EXPORT_FORMAT = "amparo-evidence-export/1"
PREVIEW_SIZE = 320
_PENDING = "amparo_vault_pending"


class EvidenceIntegrityError(AmparoError):
    """A vault file or its key failed authentication, or its hash differs from capture."""

    code = "evidence_integrity"
    status = 500


@dataclass(frozen=True)
class Hashes:
    sha256: str
    sha1: str
    md5: str
    pdq: str | None
    pdq_quality: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "sha1": self.sha1,
            "md5": self.md5,
            "pdq": self.pdq,
            "pdq_quality": self.pdq_quality,
        }


def hash_at_capture(data: bytes) -> Hashes:
    """The bytes exactly as received, before any transcoding."""
    pdq: str | None = None
    quality: int | None = None
    # Not an image Pillow can read: the exact hashes still identify it.
    with contextlib.suppress(Exception):
        pdq, quality = pdq_of_bytes(data)
    return Hashes(
        sha256=hashlib.sha256(data).hexdigest(),
        sha1=hashlib.sha1(data, usedforsecurity=False).hexdigest(),
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        pdq=pdq,
        pdq_quality=quality,
    )


def sniff_media_type(data: bytes) -> str:
    try:
        fmt = Image.open(io.BytesIO(data)).format
    except Exception:
        return "application/octet-stream"
    return Image.MIME.get(fmt or "", "application/octet-stream")


@dataclass
class _Pending:
    tmp: Path | None = None  # to rename into `final` after commit
    final: Path | None = None
    remove: Path | None = None  # to delete after commit


def _after_commit(session: Session) -> None:
    for p in session.info.pop(_PENDING, []):
        if p.tmp is not None and p.final is not None:
            _publish(p.tmp, p.final)
        if p.remove is not None:
            p.remove.unlink(missing_ok=True)


def _after_rollback(session: Session) -> None:
    for p in session.info.pop(_PENDING, []):
        if p.tmp is not None:
            p.tmp.unlink(missing_ok=True)


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(tmp: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(tmp, final)
    except FileNotFoundError:
        if not final.exists():
            raise
        return  # another process (recover) already published it
    _fsync_dir(final.parent)


class Vault:
    def __init__(
        self,
        *,
        root: Path,
        master: MasterKey,
        audit: AuditTrail,
        retention: dict[str, RetentionProfile] | None = None,
        max_bytes: int = 50 * 1024 * 1024,
    ) -> None:
        self.root = root
        self.master = master
        self.audit = audit
        self.retention = retention
        self.max_bytes = max_bytes
        (root / OBJECTS_DIR).mkdir(parents=True, exist_ok=True)
        (root / TMP_DIR).mkdir(parents=True, exist_ok=True)

    # -- start ---------------------------------------------------------------------------

    @staticmethod
    def open(
        settings: Settings,
        db: Database,
        audit: AuditTrail,
        *,
        retention: dict[str, RetentionProfile] | None = None,
        recover_min_age_seconds: float = 600.0,
    ) -> Vault:
        """Load the master key, check it against the stored key check value, recover from a
        crash. A missing or wrong key raises ConfigurationError before anything is read."""
        with db.session() as s:
            stored = evidence_repo.read_key_check(s)
        master = load_master_key(settings, allow_dev_key=stored is None)
        with db.session() as s:
            stored = evidence_repo.claim_key_check(s, key_id=master.key_id)
            if stored != master.key_id:
                raise ConfigurationError(
                    "the vault master key does not match the key this vault was created with "
                    f"(key check {master.key_id[:8]}… ≠ stored {stored[:8]}…); the evidence vault "
                    "refuses to start and nothing was decrypted"
                )
        vault = Vault(
            root=settings.evidence_dir,
            master=master,
            audit=audit,
            retention=retention,
            max_bytes=settings.max_upload_bytes,
        )
        vault.recover(db, min_age_seconds=recover_min_age_seconds)
        # No record for a routine start: a change of master key or its source is a settings
        # change, recorded by Service._audit_settings_change.
        return vault

    def recover(self, db: Database, *, min_age_seconds: float = 600.0) -> dict[str, int]:
        """Finish what a crash interrupted. Temp files younger than `min_age_seconds` may
        belong to a live writer in another process and are left alone."""
        now = datetime.now(UTC).timestamp()
        tmp_files = sorted((self.root / TMP_DIR).glob("*" + TMP_SUFFIX))
        refs = [p.name.removesuffix(TMP_SUFFIX) for p in tmp_files]
        published = removed = stale = 0
        with db.session() as s:
            committed = evidence_repo.existing_refs(s, refs=refs)
            objects = {p.stem: p for p in (self.root / OBJECTS_DIR).glob("*/*" + OBJECT_SUFFIX)}
            dead = evidence_repo.tombstoned_refs(s, refs=list(objects))
        for path, ref in zip(tmp_files, refs, strict=True):
            if ref in committed:
                _publish(path, self.object_path(ref))
                published += 1
            elif now - path.stat().st_mtime >= min_age_seconds:
                path.unlink(missing_ok=True)
                removed += 1
        for ref in dead:
            objects[ref].unlink(missing_ok=True)
            stale += 1
        if published or removed or stale:
            log.warning(
                "vault recovery: %d published, %d orphan temp files removed, "
                "%d deleted objects removed",
                published,
                removed,
                stale,
            )
        return {"published": published, "removed": removed, "deleted_objects": stale}

    # -- paths ---------------------------------------------------------------------------

    def object_path(self, ref: str) -> Path:
        return self.root / OBJECTS_DIR / ref[:2] / (ref + OBJECT_SUFFIX)

    def _tmp_path(self, ref: str) -> Path:
        return self.root / TMP_DIR / (ref + TMP_SUFFIX)

    # -- capture -------------------------------------------------------------------------

    def capture(
        self,
        session: Session,
        *,
        data: bytes,
        item_id: str,
        event_id: int | None = None,
        case_id: int | None = None,
        media_type: str | None = None,
        metadata: dict[str, Any] | None = None,
        profile: str | None = None,
        reported: bool = False,
        actor: str = names.SYSTEM_ACTOR,
        actor_role: str = names.SYSTEM_ROLE,
    ) -> EvidenceItemRow:
        """Preserve `data` in the caller's transaction; the file appears once it commits."""
        if not data:
            raise BadInput("evidence is empty", code="empty_evidence")
        if len(data) > self.max_bytes:
            raise BadInput(f"evidence larger than {self.max_bytes} bytes", code="too_large")
        hashes = hash_at_capture(data)
        now = datetime.now(UTC)
        ref = uuid.uuid4().hex
        data_key = sealing.new_data_key()
        meta = dict(metadata or {})
        retention = profile_for(profile, self.retention)
        self._write_temp(ref, sealing.seal_file(data_key, data, ref))
        self._on_commit(session, _Pending(tmp=self._tmp_path(ref), final=self.object_path(ref)))
        row = EvidenceItemRow(
            ref=ref,
            created_at=now,
            item_id=item_id,
            event_id=event_id,
            case_id=case_id,
            media_type=media_type or sniff_media_type(data),
            size=len(data),
            sha256=hashes.sha256,
            sha1=hashes.sha1,
            md5=hashes.md5,
            pdq=hashes.pdq,
            pdq_quality=hashes.pdq_quality,
            pdq_origin="reference" if hashes.pdq else None,
            key_id=self.master.key_id,
            wrapped_key=sealing.wrap_key(self.master.key, data_key, ref),
            metadata_ciphertext=sealing.seal(
                data_key, canonical_json(meta), sealing.META_AAD + ref.encode()
            ),
            profile=retention.name,
            reported=reported,
            retain_until=retention.retain_until(start=now, reported=reported),
        )
        evidence_repo.insert_item(session, row=row)
        self.audit.record(
            session,
            action=names.EVIDENCE_CAPTURE,
            subject_type="evidence",
            subject_id=ref,
            actor=actor,
            actor_role=actor_role,
            details={
                "item_id": item_id,
                "event_id": event_id,
                "size": len(data),
                "media_type": row.media_type,
                **hashes.to_dict(),
                "key_id": self.master.key_id,
                "retain_until": row.retain_until.isoformat(),
            },
        )
        return row

    def _write_temp(self, ref: str, blob: bytes) -> None:
        path = self._tmp_path(ref)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())

    @staticmethod
    def _on_commit(session: Session, pending: _Pending) -> None:
        session.info.setdefault(_PENDING, []).append(pending)

    # -- reading (every read is a key use and is recorded) --------------------------------

    def _item(self, session: Session, ref: str) -> EvidenceItemRow:
        row = evidence_repo.get_item(session, ref=ref)
        if row is None:
            stone = evidence_repo.get_tombstone(session, ref=ref)
            if stone is not None:
                raise NotFound(f"evidence {ref} was deleted on {stone.deleted_at:%Y-%m-%d}")
            raise NotFound(f"no evidence {ref}")
        return row

    def _decrypt(self, row: EvidenceItemRow) -> tuple[bytes, dict[str, Any]]:
        ref = row.ref
        if row.key_id != self.master.key_id:
            raise EvidenceIntegrityError(f"evidence {ref} is sealed under another master key")
        try:
            data_key = sealing.unwrap_key(self.master.key, row.wrapped_key, ref)
        except sealing.SealBroken as e:
            raise EvidenceIntegrityError(
                f"evidence {ref}: its wrapped key fails authentication"
            ) from e
        path = self.object_path(ref)
        try:
            blob = path.read_bytes()
        except FileNotFoundError as e:
            raise EvidenceIntegrityError(f"evidence {ref}: the vault file is missing") from e
        try:
            content = sealing.unseal_file(data_key, blob, ref)
            meta_raw = sealing.unseal(
                data_key, row.metadata_ciphertext, sealing.META_AAD + ref.encode()
            )
        except sealing.SealBroken as e:
            raise EvidenceIntegrityError(
                f"evidence {ref} failed its integrity check: "
                "the vault file or its metadata was altered"
            ) from e
        if hashlib.sha256(content).hexdigest() != row.sha256:
            raise EvidenceIntegrityError(
                f"evidence {ref}: SHA-256 differs from the one taken at capture"
            )
        return content, json.loads(meta_raw)

    def rehash_legacy_pdq(self, session: Session, *, actor: str, actor_role: str = "admin") -> dict[str, int]:
        """Replace PDQ values taken by the pre-0005 fast decode with the reference hash of the
        kept bytes (migration 0005 marked them); one audit record for the whole run."""
        done = failed = changed = 0
        while True:
            rows = [r for r in evidence_repo.legacy_pdq_items(session, limit=200)]
            if not rows:
                break
            for row in rows:
                try:
                    content, _ = self._decrypt(row)
                    pdq, quality = pdq_of_bytes(content)
                except Exception:  # unreadable: keep the value, mark it so nobody mistakes it
                    row.pdq_origin = "legacy_unreadable"
                    failed += 1
                    continue
                changed += int(pdq != row.pdq)
                row.pdq, row.pdq_quality, row.pdq_origin = pdq, quality, "reference"
                done += 1
            session.flush()
        out = {"rehashed": done, "changed": changed, "unreadable": failed}
        if done or failed:
            self.audit.record(
                session,
                action=names.INTEGRITY_REHASH_PDQ,
                subject_type="evidence",
                subject_id="*",
                actor=actor,
                actor_role=actor_role,
                details=out,
            )
        return out

    def read(
        self,
        session: Session,
        *,
        ref: str,
        actor: str,
        actor_role: str,
        purpose: str,
        action: str = names.EVIDENCE_REVEAL,
    ) -> tuple[EvidenceItemRow, bytes]:
        """Decrypt one item for a person or process and record who, why and which key."""
        if not purpose.strip():
            raise BadInput("a purpose is required to open evidence", code="purpose_required")
        row = self._item(session, ref)
        content, _ = self._decrypt(row)
        self.audit.record(
            session,
            action=action,
            subject_type="evidence",
            subject_id=ref,
            actor=actor,
            actor_role=actor_role,
            details={"purpose": purpose[:200], "key_id": self.master.key_id, "sha256": row.sha256},
        )
        return row, content

    def preview(self, session: Session, *, ref: str, actor: str, actor_role: str) -> bytes:
        """A small, blurred, greyscale JPEG: what a reviewer sees before choosing to reveal."""
        row, content = self.read(
            session,
            ref=ref,
            actor=actor,
            actor_role=actor_role,
            purpose="blurred preview",
            action=names.EVIDENCE_PREVIEW,
        )
        return blurred_preview(content)

    def export(
        self, session: Session, *, ref: str, actor: str, actor_role: str, purpose: str
    ) -> bytes:
        """One item as a ZIP for a report: the original, a manifest with its hashes, holds,
        retention and its custody records, and the audit key to check them with."""
        row, content = self.read(
            session,
            ref=ref,
            actor=actor,
            actor_role=actor_role,
            purpose=purpose,
            action=names.EVIDENCE_EXPORT,
        )
        _, meta = self._decrypt(row)
        custody = audit_repo.list_records(
            session, subject_type="evidence", subject_id=ref, limit=10_000
        )
        head_seq, head_hash = audit_repo.read_head(session)
        manifest = {
            "format": EXPORT_FORMAT,
            "ref": ref,
            "item_id": row.item_id,
            "event_id": row.event_id,
            "case_id": row.case_id,
            "captured_at": evidence_repo.as_utc(row.created_at).isoformat(),
            "media_type": row.media_type,
            "size": row.size,
            "hashes": {"sha256": row.sha256, "sha1": row.sha1, "md5": row.md5, "pdq": row.pdq},
            "metadata": meta,
            "retention": {
                "profile": row.profile,
                "reported": row.reported,
                "retain_until": evidence_repo.as_utc(row.retain_until).isoformat(),
            },
            "legal_holds": [_hold_dict(h) for h in evidence_repo.list_holds(session, ref=ref)],
            "custody": [
                {
                    "seq": r.seq,
                    "created_at": r.created_at,
                    "actor": r.actor,
                    "actor_role": r.actor_role,
                    "action": r.action,
                    "details": r.details,
                    "hash": r.hash,
                    "signature": r.signature,
                    "key_id": r.key_id,
                }
                for r in sorted(custody, key=lambda r: r.seq)
            ],
            "audit_head": {"seq": head_seq, "hash": head_hash},
            "audit_public_key": public_hex(self.audit.signer.public),
            "exported_by": actor,
            "purpose": purpose,
        }
        ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
        name = f"original.{ext.get(row.media_type, 'bin')}"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(name, content)
            z.writestr("manifest.json", canonical_json(manifest))
        return buf.getvalue()

    def verify_item(self, session: Session, *, ref: str) -> None:
        """Raise EvidenceIntegrityError if the item's file, key or hash was tampered with
        (no audit record: this is an integrity check, the content goes nowhere)."""
        self._decrypt(self._item(session, ref))

    def verify_all(self, session: Session) -> list[str]:
        """Check every item; return one line per problem."""
        problems: list[str] = []
        for ref in sorted(evidence_repo.all_refs(session)):
            try:
                self.verify_item(session, ref=ref)
            except EvidenceIntegrityError as e:
                problems.append(e.message)
        return problems

    # -- retention, holds, deletion --------------------------------------------------------

    def mark_reported(self, session: Session, *, ref: str, actor: str, actor_role: str) -> None:
        """A report was queued: keep the item the profile's reported period from now."""
        row = self._item(session, ref)
        profile = profile_for(row.profile, self.retention)
        until = max(
            evidence_repo.as_utc(row.retain_until),
            profile.retain_until(start=datetime.now(UTC), reported=True),
        )
        evidence_repo.set_reported(session, ref=ref, retain_until=until)
        self.audit.record(
            session,
            action=names.EVIDENCE_RETENTION,
            subject_type="evidence",
            subject_id=ref,
            actor=actor,
            actor_role=actor_role,
            details={"reported": True, "retain_until": until.isoformat()},
        )

    def place_hold(
        self,
        session: Session,
        *,
        ref: str,
        reason: str,
        ends_at: datetime,
        actor: str,
        actor_role: str,
        authority: str | None = None,
    ) -> LegalHoldRow:
        if not reason.strip():
            raise BadInput("a legal hold needs a reason", code="hold_reason_required")
        ends_at = evidence_repo.as_utc(ends_at)
        if ends_at <= datetime.now(UTC):
            raise BadInput("a legal hold must end in the future", code="hold_end_in_past")
        self._item(session, ref)
        hold = evidence_repo.insert_hold(
            session,
            hold=LegalHoldRow(
                evidence_ref=ref,
                reason=reason[:500],
                authority=authority,
                created_by=actor,
                ends_at=ends_at,
            ),
        )
        self.audit.record(
            session,
            action=names.LEGAL_HOLD_SET,
            subject_type="evidence",
            subject_id=ref,
            actor=actor,
            actor_role=actor_role,
            details={
                "hold_id": hold.id,
                "reason": reason[:500],
                "authority": authority,
                "ends_at": ends_at.isoformat(),
            },
        )
        return hold

    def release_hold(
        self, session: Session, *, hold_id: int, actor: str, actor_role: str, reason: str
    ) -> None:
        hold = evidence_repo.get_hold(session, hold_id=hold_id)
        if hold is None:
            raise NotFound(f"no legal hold {hold_id}")
        if hold.released_at is not None:
            raise Conflict(f"legal hold {hold_id} was already released")
        hold.released_at = datetime.now(UTC)
        session.flush()
        self.audit.record(
            session,
            action=names.LEGAL_HOLD_RELEASE,
            subject_type="evidence",
            subject_id=hold.evidence_ref,
            actor=actor,
            actor_role=actor_role,
            details={"hold_id": hold_id, "reason": reason[:300]},
        )

    def delete(
        self,
        session: Session,
        *,
        ref: str,
        actor: str,
        actor_role: str,
        reason: str,
        now: datetime | None = None,
    ) -> None:
        """Delete an item, leaving a tombstone with its hashes. Refused while a legal hold is
        active or, for reported items, before their retention period ends."""
        now = now or datetime.now(UTC)
        row = self._item(session, ref)
        holds = evidence_repo.active_holds(session, ref=ref, now=now)
        if holds:
            raise Conflict(
                f"evidence {ref} is under legal hold until "
                f"{evidence_repo.as_utc(holds[0].ends_at):%Y-%m-%d} ({holds[0].reason})"
            )
        until = evidence_repo.as_utc(row.retain_until)
        if row.reported and now < until:
            raise Conflict(f"reported evidence {ref} must be kept until {until:%Y-%m-%d}")
        hashes = {"sha256": row.sha256, "sha1": row.sha1, "md5": row.md5, "pdq": row.pdq}
        evidence_repo.replace_with_tombstone(
            session, item=row, deleted_by=actor, reason=reason, now=now
        )
        self.audit.record(
            session,
            action=names.EVIDENCE_DELETE,
            subject_type="evidence",
            subject_id=ref,
            actor=actor,
            actor_role=actor_role,
            details={"reason": reason[:300], **hashes},
        )
        self._on_commit(session, _Pending(remove=self.object_path(ref)))

    def apply_retention(self, session: Session, *, now: datetime | None = None) -> list[str]:
        """Delete every item past its retention (no hold, no case under review)."""
        now = now or datetime.now(UTC)
        done: list[str] = []
        for row in evidence_repo.expired_items(session, now=now):
            self.delete(
                session,
                ref=row.ref,
                actor=names.SYSTEM_ACTOR,
                actor_role=names.SYSTEM_ROLE,
                reason=f"retention period of profile {row.profile} ended",
                now=now,
            )
            done.append(row.ref)
        return done

    def link_case(self, session: Session, *, ref: str, case_id: int) -> None:
        evidence_repo.set_case(session, ref=ref, case_id=case_id)


def _hold_dict(h: LegalHoldRow) -> dict[str, Any]:
    return {
        "id": h.id,
        "reason": h.reason,
        "authority": h.authority,
        "created_by": h.created_by,
        "created_at": evidence_repo.as_utc(h.created_at).isoformat(),
        "ends_at": evidence_repo.as_utc(h.ends_at).isoformat(),
        "released_at": evidence_repo.as_utc(h.released_at).isoformat() if h.released_at else None,
    }


def blurred_preview(content: bytes) -> bytes:
    img: Image.Image
    try:
        img = Image.open(io.BytesIO(content))
        img.draft("RGB", (PREVIEW_SIZE, PREVIEW_SIZE))
        img = ImageOps.exif_transpose(img).convert("L")
    except Exception:
        img = Image.new("L", (PREVIEW_SIZE, PREVIEW_SIZE), 128)
    img.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
    # Downscale hard, then blur: no detail survives whatever the browser does with it.
    small = img.resize((max(1, img.width // 16), max(1, img.height // 16)), Image.Resampling.BOX)
    img = small.resize(img.size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(6))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70)
    return out.getvalue()
