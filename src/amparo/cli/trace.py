"""`amparo trace IMAGE...`: which generation made an image (C2PA → watermark → PDQ, ledger).

One JSON line per image with --json; a short line per image otherwise. Exit 0 when every image
was traced, 1 when some were not, 2 on an error (unreadable file, bad image, configuration)."""

from __future__ import annotations

from pathlib import Path

import typer

from amparo.cli.output import emit, error_result, inputs
from amparo.errors import AmparoError


def trace_line(source: str, r: dict) -> str:  # type: ignore[type-arg]
    if not r["found"]:
        return f"{source}: not traced"
    g = r["generation"]
    return (
        f"{source}: {g['generation_id']} via {r['method']} (confidence {r['confidence']:.3f})  "
        f"{g['created_at']}  account={g['account'] or '-'}  {g['operation']}  "
        f"decision={g['decision']}"
        + (
            f"  WARNING: ledger row {g['integrity']} outside Amparo, account and decision unreliable"
            if g.get("integrity") in ("altered", "unsealed")
            else ""
        )
    )


def register(app: typer.Typer) -> None:
    @app.command()
    def trace(
        files: list[str] = typer.Argument(..., help="image files, or - for paths on stdin"),
        show_prompt: bool = typer.Option(False, "--show-prompt", help="decrypt and print the stored prompt"),
        no_watermark: bool = typer.Option(False, "--no-watermark", help="do not use the watermark key"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Trace images back to the generation ledger record that made them."""
        from amparo.cli.context import open_service
        from amparo.cli.output import fail
        from amparo.provenance.trace import Tracer

        svc = open_service(load_detectors=False)
        try:
            tracer = Tracer.for_service(svc, watermark_key=None if no_watermark else "settings")
        except AmparoError as e:
            raise fail(e.message) from None
        worst = 0
        for path in inputs(files):
            try:
                r = tracer.trace(Path(path).read_bytes()).to_dict()
                if show_prompt and r["found"]:
                    r["prompt"] = tracer.ledger.read_prompt(r["generation"]["generation_id"])
                emit({"input": path, **r}, as_json=json_out, text=trace_line(path, r))
                if not r["found"]:
                    worst = max(worst, 1)
            except AmparoError as e:
                emit(error_result(path, e), as_json=True)
                worst = 2
            except OSError as e:
                emit(
                    {"input": path, "error": {"code": "unreadable", "message": str(e)}},
                    as_json=True,
                )
                worst = 2
        svc.close()
        raise typer.Exit(worst)
