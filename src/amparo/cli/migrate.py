"""`amparo migrate`: bring the database schema to the newest revision."""

from __future__ import annotations

import typer

from amparo.cli.output import emit


def register(app: typer.Typer) -> None:
    @app.command()
    def migrate(json_out: bool = typer.Option(False, "--json")) -> None:
        """Apply database migrations (also done automatically on start)."""
        from amparo.settings import Settings
        from amparo.store.database import Database

        s = Settings()
        s.ensure_dirs()
        db = Database(s.resolved_database_url)
        db.migrate()
        emit(
            {"migrated": True, "database": db.engine.url.render_as_string(hide_password=True)},
            as_json=json_out,
            text="database is at the newest revision",
        )
