"""`amparo evidence ...`: the vault from the command line — list, holds (a preservation order),
export for a report, deletion with a tombstone, integrity check. Every use is in the audit trail."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from amparo.cli.output import emit, fail
from amparo.errors import AmparoError

ACTOR_ROLE = "admin"  # the operator at the console; the audit record names the OS user


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"


def _item(row: Any) -> dict[str, Any]:
    return {
        "ref": row.ref,
        "created_at": row.created_at.isoformat(),
        "event_id": row.event_id,
        "case_id": row.case_id,
        "media_type": row.media_type,
        "size": row.size,
        "sha256": row.sha256,
        "md5": row.md5,
        "pdq": row.pdq,
        "profile": row.profile,
        "reported": row.reported,
        "retain_until": row.retain_until.isoformat(),
    }


def register(app: typer.Typer) -> None:
    ev = typer.Typer(help="Evidence vault: list, legal holds, export, deletion, integrity.", no_args_is_help=True)
    app.add_typer(ev, name="evidence")
    try:  # the reports room adds `verify-package`
        from amparo.cli.reports import verify_package_command
    except ModuleNotFoundError:
        pass
    else:
        verify_package_command(ev)

    def vault():  # type: ignore[no-untyped-def]
        from amparo.cli.context import open_service

        svc = open_service(load_detectors=False)
        if svc.vault is None:
            raise fail("the evidence vault is not available (review room not installed)")
        return svc

    @ev.command("list")
    def list_(
        case: int = typer.Option(None),
        event: int = typer.Option(None),
        limit: int = 100,
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """List evidence items (metadata and hashes only; content stays encrypted)."""
        from amparo.store import evidence_repo

        svc = vault()
        with svc.db.session() as s:
            for row in evidence_repo.list_items(s, case_id=case, event_id=event, limit=limit):
                d = _item(row)
                d["holds"] = [h.id for h in evidence_repo.active_holds(s, ref=row.ref, now=datetime.now(UTC))]
                emit(
                    d,
                    as_json=json_out,
                    text=f"{row.ref}  {row.media_type:10} {row.size:>9} B  sha256={row.sha256[:16]}…"
                    f"  keep until {row.retain_until:%Y-%m-%d}{'  HELD' if d['holds'] else ''}",
                )

    @ev.command("hold")
    def hold(
        ref: str,
        reason: str = typer.Option(..., help="e.g. the preservation order's reference"),
        days: int = typer.Option(90, help="length of the hold (LECrim 588 octies: 90, extendable to 180)"),
        authority: str = typer.Option(None, help="who ordered it"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Place a legal hold: the item is kept past its retention until the hold ends or is released."""
        svc = vault()
        try:
            with svc.db.session() as s:
                h = svc.vault.place_hold(
                    s,
                    ref=ref,
                    reason=reason,
                    ends_at=datetime.now(UTC) + timedelta(days=days),
                    actor=_actor(),
                    actor_role=ACTOR_ROLE,
                    authority=authority,
                )
                out = {"hold_id": h.id, "ref": ref, "ends_at": h.ends_at.isoformat()}
        except AmparoError as e:
            raise fail(e.message) from None
        emit(out, as_json=json_out, text=f"hold {out['hold_id']} on {ref} until {out['ends_at']}")

    @ev.command("release")
    def release(hold_id: int, reason: str = typer.Option(...), json_out: bool = typer.Option(False, "--json")) -> None:
        """Release a legal hold."""
        svc = vault()
        try:
            with svc.db.session() as s:
                svc.vault.release_hold(s, hold_id=hold_id, actor=_actor(), actor_role=ACTOR_ROLE, reason=reason)
        except AmparoError as e:
            raise fail(e.message) from None
        emit({"released": hold_id}, as_json=json_out, text=f"released hold {hold_id}")

    @ev.command("export")
    def export(
        ref: str,
        out: Path = typer.Option(..., "--out", help="ZIP: original, manifest with hashes, custody"),
        purpose: str = typer.Option(..., help="why (e.g. the report or order it is for)"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Export one item for a report or a prosecutor (recorded in the audit trail)."""
        svc = vault()
        try:
            with svc.db.session() as s:
                data = svc.vault.export(s, ref=ref, actor=_actor(), actor_role=ACTOR_ROLE, purpose=purpose)
        except AmparoError as e:
            raise fail(e.message) from None
        out.write_bytes(data)
        out.chmod(0o600)
        emit(
            {"ref": ref, "out": str(out), "bytes": len(data)}, as_json=json_out, text=f"wrote {out} ({len(data)} bytes)"
        )

    @ev.command("delete")
    def delete(
        ref: str,
        reason: str = typer.Option(...),
        yes: bool = typer.Option(False, "--yes"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Delete an item, leaving a tombstone with its hashes (refused while a hold is active)."""
        if not yes:
            raise fail("deletion cannot be undone: repeat with --yes")
        svc = vault()
        try:
            with svc.db.session() as s:
                svc.vault.delete(s, ref=ref, actor=_actor(), actor_role=ACTOR_ROLE, reason=reason)
        except AmparoError as e:
            raise fail(e.message) from None
        emit({"deleted": ref}, as_json=json_out, text=f"deleted {ref} (tombstone kept)")

    @ev.command("verify")
    def verify(json_out: bool = typer.Option(False, "--json")) -> None:
        """Check every item's file against its recorded hashes; exit 1 when anything is wrong."""
        svc = vault()
        with svc.db.session() as s:
            problems = svc.vault.verify_all(s)
        emit(
            {"ok": not problems, "problems": problems},
            as_json=json_out,
            text="all evidence intact" if not problems else "\n".join(problems),
        )
        raise typer.Exit(1 if problems else 0)
