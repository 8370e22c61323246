"""The evidence vault: encryption at rest, hashes at capture, tampering, keys, retention."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from amparo.errors import BadInput, ConfigurationError, Conflict, NotFound
from amparo.evidence.vault import EvidenceIntegrityError, Vault
from amparo.signals.hashes.pdq import pdq_of_bytes
from amparo.store import evidence_repo
from amparo.store.tables_audit import AuditRecordRow
from amparo.store.tables_review import EvidenceItemRow, EvidenceTombstoneRow
from review.media import draw_landscape

ACTOR = {"actor": "sam", "actor_role": "senior_reviewer"}


def capture(db: Any, vault: Vault, seed: int = 1, **kw: Any) -> tuple[str, bytes]:
    data = draw_landscape(seed)
    with db.session() as s:
        row = vault.capture(s, data=data, item_id=f"item-{seed}", event_id=seed, **kw)
        return row.ref, data


def test_capture_encrypts_hashes_and_reads_back(db: Any, review: Any) -> None:
    vault = review.vault
    ref, data = capture(db, vault, metadata={"account": "acct-9", "note": "benign landscape"})
    blob = vault.object_path(ref).read_bytes()
    assert data not in blob and data[:64] not in blob  # encrypted at rest
    with db.session() as s:
        row = evidence_repo.get_item(s, ref=ref)
        assert row.sha256 == hashlib.sha256(data).hexdigest()
        assert row.sha1 == hashlib.sha1(data).hexdigest()
        assert row.md5 == hashlib.md5(data).hexdigest()
        assert row.pdq == pdq_of_bytes(data)[0]
        assert b"acct-9" not in row.metadata_ciphertext  # metadata encrypted too
        assert vault.master.key not in row.wrapped_key
        _, back = vault.read(s, ref=ref, purpose="test", **ACTOR)
    assert back == data
    with db.session() as s:
        recs = list(s.scalars(select(AuditRecordRow).where(AuditRecordRow.subject_id == ref)))
        assert [r.action for r in recs] == ["evidence.capture", "evidence.reveal"]
        assert recs[0].details["sha256"] == hashlib.sha256(data).hexdigest()


def test_flipped_byte_in_vault_file_is_detected(db: Any, review: Any) -> None:
    ref, _ = capture(db, review.vault)
    path = review.vault.object_path(ref)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    path.write_bytes(bytes(blob))
    with db.session() as s, pytest.raises(EvidenceIntegrityError, match="integrity"):
        review.vault.read(s, ref=ref, purpose="test", **ACTOR)
    with db.session() as s:
        assert len(review.vault.verify_all(s)) == 1


def test_swapped_files_and_altered_hash_are_detected(db: Any, review: Any) -> None:
    a, _ = capture(db, review.vault, 1)
    b, _ = capture(db, review.vault, 2)
    pa, pb = review.vault.object_path(a), review.vault.object_path(b)
    ba, bb = pa.read_bytes(), pb.read_bytes()
    pa.write_bytes(bb)
    pb.write_bytes(ba)
    with db.session() as s:
        assert len(review.vault.verify_all(s)) == 2
    pa.write_bytes(ba)
    pb.write_bytes(bb)
    with db.session() as s:
        assert review.vault.verify_all(s) == []
        s.execute(update(EvidenceItemRow).where(EvidenceItemRow.ref == a).values(sha256="0" * 64))
    with db.session() as s, pytest.raises(EvidenceIntegrityError, match="SHA-256"):
        review.vault.verify_item(s, ref=a)


def test_wrong_master_key_refuses_to_start(db: Any, review: Any, settings: Any) -> None:
    capture(db, review.vault)
    wrong = settings.model_copy(update={"master_key": "33" * 32})
    with pytest.raises(ConfigurationError, match="does not match"):
        Vault.open(wrong, db, review.audit)


def test_missing_or_malformed_master_key_refuses_to_start(
    db: Any, review: Any, settings: Any, tmp_path: Any
) -> None:
    none = settings.model_copy(update={"master_key": None, "master_key_file": None})
    with pytest.raises(ConfigurationError, match="no vault master key"):
        Vault.open(none, db, review.audit)
    missing = settings.model_copy(
        update={"master_key": None, "master_key_file": tmp_path / "nope.key"}
    )
    with pytest.raises(ConfigurationError, match="cannot be read"):
        Vault.open(missing, db, review.audit)
    short = tmp_path / "short.key"
    short.write_text("abcd\n")
    with pytest.raises(ConfigurationError, match="bytes"):
        Vault.open(
            settings.model_copy(update={"master_key": None, "master_key_file": short}),
            db,
            review.audit,
        )


def test_master_key_from_file_opens_the_same_vault(
    db: Any, review: Any, settings: Any, tmp_path: Any
) -> None:
    ref, data = capture(db, review.vault)
    keyfile = tmp_path / "master.key"
    keyfile.write_text(settings.master_key + "\n")
    vault = Vault.open(
        settings.model_copy(update={"master_key": None, "master_key_file": keyfile}),
        db,
        review.audit,
    )
    with db.session() as s:
        assert vault.read(s, ref=ref, purpose="test", **ACTOR)[1] == data


def test_rollback_leaves_no_file_and_no_row(db: Any, review: Any) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        review.vault.capture(s, data=draw_landscape(3), item_id="x")
        raise RuntimeError("the event failed")
    assert list((review.vault.root / "tmp").iterdir()) == []
    assert list((review.vault.root / "objects").rglob("*.bin")) == []
    with db.session() as s:
        assert s.scalar(select(EvidenceItemRow.id)) is None


def test_retention_holds_and_tombstones(db: Any, review: Any) -> None:
    vault = review.vault
    reported, data = capture(db, vault, 1, reported=True)
    plain, _ = capture(db, vault, 2)
    now = datetime.now(UTC)
    with db.session() as s:
        r = evidence_repo.get_item(s, ref=reported)
        days = (evidence_repo.as_utc(r.retain_until) - now).days
        assert 363 <= days <= 365
        with pytest.raises(Conflict, match="kept until"):
            vault.delete(s, ref=reported, reason="user asked", **ACTOR)
    with db.session() as s:
        with pytest.raises(BadInput):
            vault.place_hold(s, ref=plain, reason=" ", ends_at=now + timedelta(days=90), **ACTOR)
        hold = vault.place_hold(
            s,
            ref=plain,
            reason="preservation order (LECrim 588 octies)",
            ends_at=now + timedelta(days=90),
            authority="Fiscalía",
            **ACTOR,
        )
        hold_id = hold.id
    later = now + timedelta(days=120)  # past the 90-day default, inside the hold
    with db.session() as s:
        with pytest.raises(Conflict, match="legal hold"):
            vault.delete(s, ref=plain, reason="retention", now=now + timedelta(days=1), **ACTOR)
        assert vault.apply_retention(s, now=now + timedelta(days=30)) == []
    with db.session() as s:
        vault.release_hold(s, hold_id=hold_id, reason="order lifted", **ACTOR)
    with db.session() as s:
        assert vault.apply_retention(s, now=later) == [plain]
    assert not vault.object_path(plain).exists()
    with db.session() as s:
        stone = s.scalar(select(EvidenceTombstoneRow).where(EvidenceTombstoneRow.ref == plain))
        assert stone.sha256 and stone.md5 and stone.pdq and stone.deleted_by == "amparo"
        with pytest.raises(NotFound, match="deleted"):
            vault.read(s, ref=plain, purpose="test", **ACTOR)
        # The reported item is kept a year, then goes too.
        assert vault.apply_retention(s, now=now + timedelta(days=366)) == [reported]
    with db.session() as s:
        actions = [r.action for r in s.scalars(select(AuditRecordRow).order_by(AuditRecordRow.seq))]
        assert actions.count("evidence.delete") == 2
        assert "legal_hold.set" in actions and "legal_hold.release" in actions
        assert review.audit.verify_chain(s).ok


def test_export_for_a_report(db: Any, review: Any) -> None:
    ref, data = capture(db, review.vault, metadata={"account": "acct-1"})
    with db.session() as s:
        z = review.vault.export(s, ref=ref, purpose="CyberTipline report", **ACTOR)
    with zipfile.ZipFile(io.BytesIO(z)) as zf:
        assert zf.read("original.png") == data
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["hashes"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["metadata"] == {"account": "acct-1"}
    assert [c["action"] for c in manifest["custody"]] == ["evidence.capture", "evidence.export"]
    assert len(manifest["audit_public_key"]) == 64


def test_empty_and_oversized_evidence_is_refused(db: Any, review: Any) -> None:
    with db.session() as s, pytest.raises(BadInput):
        review.vault.capture(s, data=b"", item_id="x")
    review.vault.max_bytes = 10
    with db.session() as s, pytest.raises(BadInput):
        review.vault.capture(s, data=b"x" * 11, item_id="x")
