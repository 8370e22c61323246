"""Build the Service for a CLI verb (same construction as the API), or the light RecordsService for
verbs that only read or write records (no index, detectors or pipeline: they start at once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from amparo.cli.output import fail
from amparo.errors import AmparoError

if TYPE_CHECKING:
    from amparo.records_service import RecordsService
    from amparo.service import Service


def open_service(*, load_detectors: bool = True, profile: str | None = None) -> Service:
    from amparo.service import Service
    from amparo.settings import Settings

    try:
        settings = Settings()
        if profile:
            settings.profile = profile
        return Service(settings, load_detectors=load_detectors)
    except AmparoError as e:
        raise fail(e.message) from None


def open_records() -> RecordsService:
    from amparo.records_service import RecordsService
    from amparo.settings import Settings

    try:
        return RecordsService(Settings())
    except AmparoError as e:
        raise fail(e.message) from None
