"""The full application `amparo serve` runs: the API, plus the reviewer UI and the generation proxy
when their rooms are installed/configured."""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import FastAPI

from amparo.api.app import create_app
from amparo.service import Service


def build_app(service: Service) -> FastAPI:
    routers: list[Any] = []
    ui = _maybe("amparo.ui.routes")
    if ui is not None:
        routers.append(ui.build_ui_router(service))
    if service.settings.upstream_url:
        proxy = importlib.import_module("amparo.proxy.routes")
        routers.append(proxy.build_proxy_router(service))
    if service.cases is not None:
        from amparo.api.routes import appeals

        routers.append(appeals.router)
        reports = _maybe("amparo.api.routes.reports")
        if reports is not None:
            routers.append(reports.router)
    protect = _maybe("amparo.ui.protect_pages")
    if protect is not None:  # the victim's self-service page (docs/protect.md)
        routers.append(protect.build_protect_router(service))
    from amparo.api.routes import exchanges, video_banks

    routers.append(video_banks.router)
    routers.append(exchanges.router)
    trace = _maybe("amparo.api.routes.trace")
    if trace is not None:
        routers.append(trace.router)
    from amparo.signals.hashes.pdq import warm

    warm()  # the hash of record's compiled loops, before the first request rather than during it
    service.db.checkpoint_in_background()
    return create_app(service, extra_routers=routers)


def _maybe(name: str) -> Any | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and name.startswith(e.name):
            return None
        raise


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` worker processes: each builds its own Service from AMPARO_*."""
    from amparo.settings import Settings

    return build_app(Service(Settings()))
