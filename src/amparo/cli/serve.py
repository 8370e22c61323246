"""`amparo serve`: the API (and, when installed, the reviewer UI and the proxy) on the embedded default."""

from __future__ import annotations

import os

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option(None, help="default AMPARO_HOST or 127.0.0.1"),
        port: int = typer.Option(None, help="default AMPARO_PORT or 8000"),
        workers: int = typer.Option(1, help="worker processes (one thread of numeric work each)"),
        upstream: str = typer.Option(None, help="also mount the image-generation proxy in front of this URL"),
    ) -> None:
        """Run the HTTP API (OpenAPI docs at /docs)."""
        import uvicorn

        from amparo.cli.context import open_service

        if upstream:
            os.environ["AMPARO_UPSTREAM_URL"] = upstream
        # Migrate and validate the configuration once, in this process, before any worker starts.
        service = open_service()
        host = host or service.settings.host
        port = port or service.settings.port
        typer.echo(f"Amparo on http://{host}:{port} (docs /docs); data in {service.settings.data_dir}", err=True)
        if workers > 1:
            service.close()
            uvicorn.run(
                "amparo.api.factory:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="info"
            )
            return
        from amparo.api.factory import build_app

        uvicorn.run(build_app(service), host=host, port=port, log_level="info")
