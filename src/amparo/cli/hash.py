"""`amparo hash FILE...`: print the signals of each image (one JSON line each)."""

from __future__ import annotations

from pathlib import Path

import typer

from amparo.cli.output import emit, error_result, inputs
from amparo.errors import AmparoError


def register(app: typer.Typer) -> None:
    @app.command("hash")
    def hash_(
        files: list[str] = typer.Argument(..., help="image files, or - for paths on stdin"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Hash images: PDQ (with quality), MD5, SHA-1, SHA-256."""
        from amparo.content.images import decode_image
        from amparo.signals.registry import default_signal_registry

        reg = default_signal_registry()
        failed = 0
        for path in inputs(files):
            try:
                data = Path(path).read_bytes()
                decoded = decode_image(data)
                sigs = [h.hash_image(decoded, data) for h in reg]
                out = {"input": path, "signals": [s.to_dict() for s in sigs if s]}
                text = (
                    path
                    + "  "
                    + "  ".join(
                        f"{s.type}={s.value}" + (f" q={s.quality}" if s.quality is not None else "") for s in sigs if s
                    )
                )
                emit(out, as_json=json_out, text=text)
            except AmparoError as e:
                failed += 1
                emit(error_result(path, e), as_json=True)
            except OSError as e:
                failed += 1
                emit({"input": path, "error": {"code": "unreadable", "message": str(e)}}, as_json=True)
        if failed:
            raise typer.Exit(2)
