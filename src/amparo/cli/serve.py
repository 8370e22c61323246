"""`amparo serve`: the API (and, when installed, the reviewer UI and the proxy) on the embedded default."""

from __future__ import annotations

import os

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option(None, help="default AMPARO_HOST or 127.0.0.1"),
        port: int = typer.Option(None, help="default AMPARO_PORT or 8000"),
        workers: int = typer.Option(None, help="worker processes, default AMPARO_WORKERS or 1 (one thread each)"),
        upstream: str = typer.Option(None, help="also mount the image-generation proxy in front of this URL"),
    ) -> None:
        """Run the HTTP API (OpenAPI docs at /docs)."""
        from amparo.cli.context import open_service

        if upstream:
            os.environ["AMPARO_UPSTREAM_URL"] = upstream
        # Migrate and validate the configuration once, in this process, before any worker starts.
        service = open_service()
        st = service.settings
        host = host or st.host
        port = port or st.port
        workers = workers or st.workers
        typer.echo(f"Amparo on http://{host}:{port} (docs /docs); data in {st.data_dir}", err=True)
        if workers > 1:
            from amparo.api.workers import serve_workers

            service.close()  # each worker builds its own, ready before it accepts a connection
            serve_workers(host, port, workers)
            return
        import uvicorn

        from amparo.api.factory import build_app
        from amparo.api.workers import uvicorn_config

        uvicorn.Server(uvicorn_config(build_app(service), access_log=st.access_log, host=host, port=port)).run()
