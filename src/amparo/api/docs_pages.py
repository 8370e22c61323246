"""/docs (Swagger UI) and /redoc served from packaged assets: they work offline and load nothing from
a CDN. The assets come from the fastapi-offline wheel (MIT; it ships Swagger UI, Apache-2.0, and
ReDoc, MIT, as static files); only its files are used, not its FastAPI subclass."""

from __future__ import annotations

import importlib.resources
import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

log = logging.getLogger("amparo.api")

ASSETS_URL = "/static/docs"


def _assets_dir() -> Path | None:
    try:
        path = Path(str(importlib.resources.files("fastapi_offline") / "static"))
    except ModuleNotFoundError:
        return None
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def install_docs(app: FastAPI) -> None:
    """Call on an app created with docs_url=None and redoc_url=None."""
    assets = _assets_dir()
    if assets is None:  # a broken install: say so rather than serve blank pages from a CDN
        log.warning("fastapi-offline is not installed: /docs and /redoc are not served")
        return
    app.mount(ASSETS_URL, StaticFiles(directory=assets), name="docs-assets")
    title = f"{app.title} API"
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=title,
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
