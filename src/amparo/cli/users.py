"""`amparo users create NAME --role ROLE`: reviewer accounts for the web UI."""

from __future__ import annotations

import sys

import typer

from amparo.audit.trail import AuditTrail
from amparo.cases.reviewers import create_user
from amparo.cases.roles import ROLES, Actor
from amparo.cli.output import emit, fail
from amparo.errors import AmparoError
from amparo.settings import Settings
from amparo.store.database import Database


def register(app: typer.Typer) -> None:
    users_app = typer.Typer(help="Reviewer accounts.", no_args_is_help=True)
    app.add_typer(users_app, name="users")

    @users_app.command("create")
    def create(
        name: str = typer.Argument(..., help="Sign-in name."),
        role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password from the first line of stdin."
        ),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Create a user; the password is prompted for (or read from stdin) and stored as an
        argon2id hash."""
        if password_stdin or not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            settings = Settings()
            settings.ensure_dirs()
            db = Database.sealed(settings.resolved_database_url, settings.keys_dir)
            db.migrate()
            trail = AuditTrail(settings.keys_dir, pinned_key_id=settings.audit_key_id)
            with db.session() as s:
                user = create_user(
                    s,
                    name=name,
                    role=role,
                    password=password,
                    audit=trail,
                    actor=Actor(name="cli", role="admin"),
                )
                out = {"id": user.id, "name": user.name, "role": user.role}
            db.dispose()
        except AmparoError as e:
            raise fail(e.message) from None
        emit(out, as_json=as_json, text=f"created {out['role']} {out['name']} (id {out['id']})")
