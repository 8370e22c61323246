"""`amparo retention`: delete what the retention periods of the policy profile have ended for."""

from __future__ import annotations

import typer

from amparo.cli.output import emit


def register(app: typer.Typer) -> None:
    @app.command()
    def retention(json_out: bool = typer.Option(False, "--json")) -> None:
        """Apply retention now: events, attempts, evidence (not under hold or review), ledger rows."""
        from amparo.cli.context import open_service
        from amparo.retention import run_retention

        out = run_retention(open_service(load_detectors=False))
        emit(out, as_json=json_out, text=", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in out.items()))
