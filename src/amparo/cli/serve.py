"""`amparo serve`: the API (and, when installed, the reviewer UI and the proxy) on the embedded default."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option(None, help="default AMPARO_HOST or 127.0.0.1"),
        port: int = typer.Option(None, help="default AMPARO_PORT or 8000"),
        upstream: str = typer.Option(None, help="also mount the image-generation proxy in front of this URL"),
    ) -> None:
        """Run the HTTP API (OpenAPI docs at /docs)."""
        import uvicorn

        from amparo.api.factory import build_app
        from amparo.cli.context import open_service

        service = open_service()
        if upstream:
            service.settings.upstream_url = upstream
        application = build_app(service)
        uvicorn.run(application, host=host or service.settings.host, port=port or service.settings.port,
                    log_level="info")
