"""Audit signing keys: a pinned root, rotation and trust recorded in the chain (issue 14 finding 7)."""

from __future__ import annotations

from typing import Any

import pytest

from amparo.audit import names
from amparo.audit.signing import AuditSigner, public_hex
from amparo.audit.trail import AuditTrail
from amparo.store import audit_repo


def _append(db: Any, trail: AuditTrail, n: int) -> None:
    for i in range(n):
        with db.session() as s:
            trail.record(
                s, action="case.decide", subject_type="case", subject_id=i, actor="rita", actor_role="reviewer"
            )


def verify(db: Any, trail: AuditTrail, **kw: Any):  # type: ignore[no-untyped-def]
    with db.session() as s:
        return trail.verify_chain(s, **kw)


@pytest.fixture
def trail(settings: Any) -> AuditTrail:
    settings.ensure_dirs()
    return AuditTrail(settings.keys_dir, checkpoint_every=0)


def test_public_key_file_dropped_into_keys_is_not_trusted(db: Any, trail: AuditTrail, tmp_path: Any) -> None:
    _append(db, trail, 2)
    forger = AuditTrail(tmp_path / "forger", checkpoint_every=0)
    forger._announce_key = False
    _append(db, forger, 1)
    # the forger also drops their public key where the old verifier looked for extra keys
    (trail.keys_dir / f"audit_ed25519.{forger.key_id}.pub").write_text(public_hex(forger.signer.public) + "\n")
    r = verify(db, trail)
    assert not r.ok and r.first_broken_seq == 4 and "unknown key" in r.problem


def test_rotation_is_recorded_and_both_keys_verify(db: Any, trail: AuditTrail, settings: Any) -> None:
    _append(db, trail, 2)
    old_id = trail.key_id
    with db.session() as s:
        new = trail.rotate_key(s, actor="cli:admin", reason="yearly rotation")
    trail.adopt(new)
    _append(db, trail, 2)
    assert trail.key_id != old_id
    with db.session() as s:
        rec = audit_repo.list_records(s, action=names.AUDIT_KEY_ROTATED)[0]
        assert rec.key_id == old_id and rec.details["public_key"] == public_hex(new.public)
    # a fresh process holds only the new private key: the old records verify through the chain
    fresh = AuditTrail(settings.keys_dir, checkpoint_every=0)
    assert fresh.key_id == new.key_id
    r = verify(db, fresh)
    assert r.ok, r.problem
    # pinned to the old key id, trust flows forward through the rotation record
    pinned_old = AuditTrail(settings.keys_dir, checkpoint_every=0, pinned_key_id=old_id)
    assert verify(db, pinned_old).ok


def test_a_key_needs_an_audited_admin_act_to_be_trusted(db: Any, trail: AuditTrail, settings: Any) -> None:
    """An install whose key was replaced outside Amparo: the old records need an admin to vouch."""
    _append(db, trail, 2)
    old_pub = public_hex(trail.signer.public)
    replacement = AuditSigner.generate()
    replacement.install(settings.keys_dir)  # no rotation record: e.g. restored from another backup
    later = AuditTrail(settings.keys_dir, checkpoint_every=0)
    later._announce_key = False
    r = verify(db, later)
    assert not r.ok and r.first_broken_seq == 1 and "unknown key" in r.problem
    with db.session() as s:
        later.trust_key(s, public_key_hex=old_pub, actor="cli:admin", reason="key before the 2026 restore")
    assert verify(db, later).ok
    with db.session() as s:
        rec = audit_repo.list_records(s, action=names.AUDIT_KEY_TRUSTED)[0]
        assert rec.actor == "cli:admin" and rec.actor_role == "admin" and rec.details["public_key"] == old_pub


def test_pinned_key_id_refuses_a_swapped_local_key(db: Any, trail: AuditTrail, settings: Any) -> None:
    _append(db, trail, 2)
    pinned = trail.key_id
    AuditSigner.generate().install(settings.keys_dir)  # someone swaps the private key file
    swapped = AuditTrail(settings.keys_dir, checkpoint_every=0, pinned_key_id=pinned)
    _append(db, swapped, 1)  # records signed by the swapped key
    r = verify(db, swapped)
    assert not r.ok and "unknown key" in r.problem


def test_incremental_verify_starts_from_the_last_verified_head(db: Any, trail: AuditTrail) -> None:
    from sqlalchemy import update

    from amparo.store.tables_audit import AuditRecordRow

    _append(db, trail, 5)
    full = verify(db, trail)
    assert full.ok and full.records == 6
    _append(db, trail, 2)
    with db.session() as s:
        part = trail.verify_incremental(s)
    assert part.ok and part.records == 2 and part.head_seq == 8
    with db.session() as s:  # the anchor itself changed since: found
        s.execute(update(AuditRecordRow).where(AuditRecordRow.seq == 8).values(actor="mallory"))
    with db.session() as s:
        bad = trail.verify_incremental(s)
    assert not bad.ok and bad.first_broken_seq == 8


def test_cli_rotation_users_and_checkpoints_verify(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every CLI process that writes sealed rows (users, checkpoints) seals them; a rotation via
    the CLI keeps `amparo verify` green; a stray public key file changes nothing."""
    import json

    from typer.testing import CliRunner

    from amparo.cli.main import app

    for k, v in {
        "AMPARO_DATA_DIR": str(tmp_path / "data"),
        "AMPARO_MASTER_KEY": "11" * 32,
        "AMPARO_DETECTORS": "none",
        "AMPARO_ENVIRONMENT": "test",
    }.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AMPARO_DATABASE_URL", raising=False)
    runner = CliRunner()
    made = runner.invoke(
        app, ["users", "create", "rita", "--role", "reviewer", "--password-stdin"], input="pw-rita-123456\n"
    )
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["audit", "checkpoint", "--json"]).exit_code == 0
    rotated = runner.invoke(app, ["audit", "rotate-key", "--reason", "yearly", "--json"])
    assert rotated.exit_code == 0, rotated.output
    ids = json.loads(rotated.output)
    assert ids["key_id"] != ids["previous_key_id"]
    (tmp_path / "data" / "keys" / "audit_ed25519.stray.pub").write_text("00" * 32 + "\n")
    out = runner.invoke(app, ["verify", "--json", "--files"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["ok"] and {t["table"]: t["rows"] for t in report["tables"]}["users"] == 1
