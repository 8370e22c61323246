"""Build the Service for a CLI verb (same construction as the API)."""

from __future__ import annotations

from amparo.cli.output import fail
from amparo.errors import AmparoError
from amparo.service import Service
from amparo.settings import Settings


def open_service(*, load_detectors: bool = True, profile: str | None = None) -> Service:
    try:
        settings = Settings()
        if profile:
            settings.profile = profile
        return Service(settings, load_detectors=load_detectors)
    except AmparoError as e:
        raise fail(e.message) from None
