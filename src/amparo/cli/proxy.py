"""`amparo proxy --upstream URL`: the generation guard on its own; `amparo proxy standin`: the
stand-in generator for demos (benign procedural pictures, OpenAI images API)."""

from __future__ import annotations

import typer

proxy_app = typer.Typer(help="The OpenAI-compatible generation guard.", invoke_without_command=True)


@proxy_app.callback()
def proxy(
    ctx: typer.Context,
    upstream: str = typer.Option(
        None,
        help="OpenAI-style base URL of the generator, e.g. https://api.openai.com/v1 (default AMPARO_UPSTREAM_URL)",
    ),
    host: str = typer.Option(None, help="default AMPARO_HOST or 127.0.0.1"),
    port: int = typer.Option(None, help="default AMPARO_PORT or 8000"),
    no_auth: bool = typer.Option(False, "--no-auth", help="accept callers without an Amparo API key (demos only)"),
) -> None:
    """Serve POST /v1/images/generations and /v1/images/edits in front of --upstream."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from amparo.api.app import create_app
    from amparo.cli.context import open_service
    from amparo.cli.output import fail
    from amparo.errors import AmparoError

    service = open_service()
    if upstream:
        service.settings.upstream_url = upstream
    if not service.settings.upstream_url:
        raise fail("give --upstream URL (or set AMPARO_UPSTREAM_URL)")
    if no_auth and service.settings.is_production:
        raise fail("--no-auth is refused in production")
    try:
        from amparo.api.routes import trace
        from amparo.proxy.routes import build_proxy_router

        routers = [build_proxy_router(service, require_key=not no_auth), trace.router]
    except AmparoError as e:
        raise fail(e.message) from None
    uvicorn.run(
        create_app(service, extra_routers=routers),
        host=host or service.settings.host,
        port=port or service.settings.port,
        log_level="info",
    )


@proxy_app.command("standin")
def standin(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(9100),
    delay: float = typer.Option(0.0, help="seconds each answer waits (simulated generation time)"),
    mode: str = typer.Option("ok", help="ok | timeout | error | garbage | garbage_image | content_policy | url"),
    key: str = typer.Option(None, help="bearer key to require from the proxy"),
) -> None:
    """Run the stand-in image generator (its base URL is http://HOST:PORT/v1)."""
    import uvicorn

    from amparo.cli.output import fail
    from amparo.proxy.standin_generator import MODES, StandinControls, build_standin_app

    if mode not in MODES:
        raise fail(f"--mode must be one of {', '.join(MODES)}")
    app = build_standin_app(StandinControls(mode=mode, delay_s=delay, expected_key=key))
    uvicorn.run(app, host=host, port=port, log_level="info")


def register(app: typer.Typer) -> None:
    app.add_typer(proxy_app, name="proxy")
