"""`amparo keys create|list|revoke`: API keys with roles. The key is printed once, never stored.
Creation and revocation are audit records (never the secret), committed with the change."""

from __future__ import annotations

import getpass
from typing import Any

import typer

from amparo.audit import names
from amparo.cli.output import emit, fail
from amparo.errors import AmparoError


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def _record(svc: Any, s: Any, action: str, subject: str, details: dict[str, Any]) -> None:
    if svc.audit is not None:
        svc.audit.record(
            s,
            action=action,
            subject_type="api_key",
            subject_id=subject,
            actor=_actor(),
            actor_role="admin",
            details=details,
        )


def register(app: typer.Typer) -> None:
    keys = typer.Typer(help="API keys (roles: admin, submitter, reviewer, auditor).", no_args_is_help=True)
    app.add_typer(keys, name="keys")

    @keys.command("create")
    def create(
        name: str,
        role: str = typer.Option("submitter", help="admin | submitter | reviewer | auditor"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Create a key; prints it once."""
        from amparo.cli.context import open_records
        from amparo.store import keys_repo

        svc = open_records()
        try:
            with svc.db.session() as s:
                row, key = keys_repo.create_key(s, name=name, role=role)
                _record(svc, s, names.KEY_CREATED, row.prefix, {"name": row.name, "role": row.role, "purpose": "api"})
        except AmparoError as e:
            raise fail(e.message) from None
        emit(
            {"name": row.name, "role": row.role, "prefix": row.prefix, "key": key},
            as_json=json_out,
            text=f"{key}\n(role {row.role}; store it now: it is not shown again)",
        )

    @keys.command("list")
    def list_(json_out: bool = typer.Option(False, "--json")) -> None:
        """List keys (never their secrets)."""
        from amparo.cli.context import open_records
        from amparo.store import keys_repo

        svc = open_records()
        with svc.db.session() as s:
            for r in keys_repo.list_keys(s):
                d = {
                    "name": r.name,
                    "role": r.role,
                    "prefix": r.prefix,
                    "revoked": r.revoked_at is not None,
                    "last_used_at": r.last_used_at,
                }
                emit(
                    d, as_json=json_out, text=f"{r.prefix}  {r.role:10} {r.name}{'  (revoked)' if r.revoked_at else ''}"
                )

    @keys.command("revoke")
    def revoke(prefix: str, json_out: bool = typer.Option(False, "--json")) -> None:
        """Revoke a key by its prefix."""
        from amparo.cli.context import open_records
        from amparo.store import keys_repo

        svc = open_records()
        try:
            with svc.db.session() as s:
                row = keys_repo.revoke_key(s, prefix=prefix)
                _record(svc, s, names.KEY_REVOKED, prefix, {"name": row.name, "role": row.role, "purpose": "api"})
        except AmparoError as e:
            raise fail(e.message) from None
        emit({"revoked": prefix}, as_json=json_out, text=f"revoked {prefix}")
