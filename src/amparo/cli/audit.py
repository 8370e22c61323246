"""`amparo audit verify|checkpoint`: check the whole chain; sign and export its head."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from amparo.audit import names
from amparo.audit.signing import public_hex
from amparo.audit.trail import AuditTrail
from amparo.cli.output import emit, fail
from amparo.errors import AmparoError
from amparo.settings import Settings
from amparo.store.database import Database


def _open() -> tuple[Database, AuditTrail]:
    try:
        settings = Settings()
        settings.ensure_dirs()
        db = Database.sealed(settings.resolved_database_url, settings.keys_dir)  # checkpoints are sealed rows
        return db, AuditTrail(settings.keys_dir, pinned_key_id=settings.audit_key_id)
    except AmparoError as e:
        raise fail(e.message) from None


def register(app: typer.Typer) -> None:
    audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
    app.add_typer(audit_app, name="audit")

    @audit_app.command("verify")
    def verify(
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
        checkpoint: list[Path] = typer.Option(
            [], "--checkpoint", help="Also check against a checkpoint exported earlier."
        ),
    ) -> None:
        """Check every record's hash, link and signature; name the first broken record.
        Exit status 0 when intact, 1 when broken."""
        db, trail = _open()
        external = []
        for p in checkpoint:
            try:
                external.append(json.loads(p.read_text()))
            except (OSError, ValueError) as e:
                raise fail(f"cannot read checkpoint {p}: {e}") from None
        try:
            with db.session() as s:
                result = trail.verify_chain(s, external_checkpoints=external)
        except AmparoError as e:
            raise fail(e.message) from None
        finally:
            db.dispose()
        if result.ok:
            text = (
                f"audit chain intact: {result.records} records, head {result.head_seq} "
                f"{result.head_hash[:16]}…, {result.checkpoints_checked} checkpoints agree"
            )
        else:
            text = f"audit chain BROKEN at record {result.first_broken_seq}: {result.problem}"
        emit(result.to_dict(), as_json=as_json, text=text)
        if not result.ok:
            raise typer.Exit(1)

    @audit_app.command("checkpoint")
    def checkpoint_cmd(
        out: Path | None = typer.Option(None, "--out", help="Write the checkpoint JSON here."),
        as_json: bool = typer.Option(False, "--json", help="Print the checkpoint as JSON."),
    ) -> None:
        """Sign the chain head; anchor the JSON outside Amparo (timestamping, e-mail, print)."""
        db, trail = _open()
        try:
            with db.session() as s:
                cp = trail.checkpoint(s)
        except AmparoError as e:
            raise fail(e.message) from None
        finally:
            db.dispose()
        if out is not None:
            out.write_text(json.dumps(cp, indent=2, sort_keys=True) + "\n")
        emit(
            cp,
            as_json=as_json or out is None,
            text=f"checkpoint of record {cp['seq']} written to {out}",
        )

    @audit_app.command("rotate-key")
    def rotate_key(
        reason: str = typer.Option(..., "--reason", help="Why the key is replaced (recorded)."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Replace the audit signing key. The old key signs a record naming the new one, then the
        new key announces itself: both stay trusted by `amparo verify` through the chain."""
        db, trail = _open()
        try:
            old_id = trail.key_id
            with db.session() as s:
                new = trail.rotate_key(s, actor="cli", reason=reason)
            trail.adopt(new)
            with db.session() as s:
                trail.record(
                    s,
                    action=names.KEY_CREATED,
                    subject_type="key",
                    subject_id=new.key_id,
                    actor="cli",
                    actor_role="admin",
                    details={"purpose": "audit-signing", "public_key": public_hex(new.public), "rotated_from": old_id},
                )
        except AmparoError as e:
            raise fail(e.message) from None
        finally:
            db.dispose()
        out = {"previous_key_id": old_id, "key_id": new.key_id}
        emit(
            out,
            as_json=as_json,
            text=f"audit key rotated: {old_id} -> {new.key_id} (set AMPARO_AUDIT_KEY_ID if pinned)",
        )

    @audit_app.command("trust-key")
    def trust_key(
        public_key: str = typer.Option(..., "--public-key", help="Ed25519 public key, 64 hex characters."),
        reason: str = typer.Option(..., "--reason", help="Why this key is trusted (recorded)."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Vouch for an audit key (e.g. one used before keys were pinned): an audited admin act.
        Public key files in keys/ are never trusted by themselves."""
        db, trail = _open()
        try:
            with db.session() as s:
                kid = trail.trust_key(s, public_key_hex=public_key, actor="cli", reason=reason)
        except AmparoError as e:
            raise fail(e.message) from None
        finally:
            db.dispose()
        emit({"trusted_key_id": kid}, as_json=as_json, text=f"audit key {kid} trusted (recorded in the chain)")
