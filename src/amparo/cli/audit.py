"""`amparo audit verify|checkpoint`: check the whole chain; sign and export its head."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from amparo.audit.trail import AuditTrail
from amparo.cli.output import emit, fail
from amparo.errors import AmparoError
from amparo.settings import Settings
from amparo.store.database import Database


def _open() -> tuple[Database, AuditTrail]:
    try:
        settings = Settings()  # type: ignore[call-arg]
        settings.ensure_dirs()
        return Database(settings.resolved_database_url), AuditTrail(settings.keys_dir)
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
