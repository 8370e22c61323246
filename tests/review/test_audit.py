"""The audit trail: chained, signed, serialized; every tampering is found and named."""

from __future__ import annotations

import json
import os
import stat
import threading
from typing import Any

import pytest
from sqlalchemy import delete, text, update

from amparo.audit.trail import AuditTrail
from amparo.store.tables_audit import AuditHeadRow, AuditRecordRow


def _append(db: Any, trail: AuditTrail, n: int, *, who: str = "rita") -> None:
    for i in range(n):
        with db.session() as s:
            trail.record(
                s,
                action="case.decide",
                subject_type="case",
                subject_id=i,
                actor=who,
                actor_role="reviewer",
                details={"kind": "not_violating", "i": i, "note": "ñ✓"},
            )


@pytest.fixture
def trail(settings: Any, db: Any) -> AuditTrail:
    settings.ensure_dirs()
    return AuditTrail(settings.keys_dir, checkpoint_every=0)


def verify(db: Any, trail: AuditTrail, **kw: Any):  # type: ignore[no-untyped-def]
    with db.session() as s:
        return trail.verify_chain(s, **kw)


def test_intact_chain_verifies_and_key_file_is_private(
    db: Any, trail: AuditTrail, settings: Any
) -> None:
    _append(db, trail, 6)
    r = verify(db, trail)
    assert r.ok and r.records == 7 and r.head_seq == 7  # + key.created
    key = settings.keys_dir / "audit_ed25519.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    with db.session() as s:
        first = s.get(AuditRecordRow, 1)
        assert first.action == "key.created" and first.prev_hash == "0" * 64


def test_edited_record_is_named(db: Any, trail: AuditTrail) -> None:
    _append(db, trail, 6)
    with db.session() as s:
        s.execute(update(AuditRecordRow).where(AuditRecordRow.seq == 4).values(actor="mallory"))
    r = verify(db, trail)
    assert not r.ok and r.first_broken_seq == 4 and "altered" in r.problem


def test_edited_details_with_recomputed_hash_fails_signature(db: Any, trail: AuditTrail) -> None:
    from amparo.audit.canonical import record_hash

    _append(db, trail, 5)
    with db.session() as s:
        row = s.get(AuditRecordRow, 3)
        fields = {
            c: getattr(row, c)
            for c in (
                "seq",
                "created_at",
                "actor",
                "actor_role",
                "action",
                "subject_type",
                "subject_id",
                "details",
                "prev_hash",
            )
        }
        fields["details"] = {**fields["details"], "kind": "confirm"}
        new_hash = record_hash(fields)
        s.execute(
            update(AuditRecordRow)
            .where(AuditRecordRow.seq == 3)
            .values(details=fields["details"], hash=new_hash)
        )
    r = verify(db, trail)
    # Record 3 now fails its signature (nobody else holds the key); record 4 no longer links.
    assert not r.ok and r.first_broken_seq == 3 and "signature" in r.problem


def test_deleted_record_is_named(db: Any, trail: AuditTrail) -> None:
    _append(db, trail, 6)
    with db.session() as s:
        s.execute(delete(AuditRecordRow).where(AuditRecordRow.seq == 5))
    r = verify(db, trail)
    assert not r.ok and r.first_broken_seq == 5 and "missing" in r.problem


def test_deleted_tail_is_found_by_the_head_and_by_a_checkpoint(db: Any, trail: AuditTrail) -> None:
    _append(db, trail, 4)
    with db.session() as s:
        cp = trail.checkpoint(s)
    exported = json.loads(json.dumps(cp))
    _append(db, trail, 1)
    with db.session() as s:
        s.execute(delete(AuditRecordRow).where(AuditRecordRow.seq == 7))
    r = verify(db, trail)
    assert not r.ok and r.first_broken_seq == 7
    # A forger who also rewinds the head and drops the stored checkpoint is caught by the
    # checkpoint exported earlier.
    with db.session() as s:
        s.execute(delete(AuditRecordRow).where(AuditRecordRow.seq == 6))
        prev = s.get(AuditRecordRow, 5)
        s.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(seq=5, hash=prev.hash))
        s.execute(text("DELETE FROM audit_checkpoints"))
    assert verify(db, trail).ok
    r = verify(db, trail, external_checkpoints=[exported])
    assert not r.ok and r.first_broken_seq == 6


def test_reordered_records_are_named(db: Any, trail: AuditTrail) -> None:
    _append(db, trail, 6)
    with db.session() as s:  # swap the contents of records 3 and 4 by renumbering
        s.execute(update(AuditRecordRow).where(AuditRecordRow.seq == 3).values(seq=-3))
        s.execute(update(AuditRecordRow).where(AuditRecordRow.seq == 4).values(seq=3))
        s.execute(update(AuditRecordRow).where(AuditRecordRow.seq == -3).values(seq=4))
    r = verify(db, trail)
    assert not r.ok and r.first_broken_seq == 3


def test_record_signed_by_another_key_is_named(db: Any, trail: AuditTrail, tmp_path: Any) -> None:
    _append(db, trail, 3)
    other = AuditTrail(tmp_path / "other-keys", checkpoint_every=0)
    other._announce_key = False
    _append(db, other, 1)
    r = verify(db, trail)
    assert not r.ok and r.first_broken_seq == 5 and "unknown key" in r.problem


def test_concurrent_appends_stay_one_chain(db: Any, trail: AuditTrail) -> None:
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            _append(db, trail, 15, who=f"w{k}")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    r = verify(db, trail)
    assert r.ok and r.records == 61


def test_record_rolls_back_with_its_transaction(db: Any, trail: AuditTrail) -> None:
    _append(db, trail, 2)
    with pytest.raises(RuntimeError), db.session() as s:
        trail.record(s, action="x", subject_type="t", subject_id=1)
        raise RuntimeError("the action failed")
    _append(db, trail, 1)
    r = verify(db, trail)
    assert r.ok and r.records == 4


def test_periodic_checkpoints_are_written_and_checked(db: Any, settings: Any) -> None:
    settings.ensure_dirs()
    trail = AuditTrail(settings.keys_dir, checkpoint_every=3)
    _append(db, trail, 7)
    r = verify(db, trail)
    assert r.ok and r.checkpoints_checked == 2
