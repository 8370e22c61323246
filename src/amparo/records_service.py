"""RecordsService: the sealed database and the audit trail, without the index, detectors or pipeline.

Verbs that only read or write records (`amparo keys`, `amparo banks list|create|enable|...`) open
this instead of the full Service, so they start without numba, model runtimes or Alembic: the
schema is checked against the migration scripts' head and Alembic runs only when it is behind."""

from __future__ import annotations

from typing import Any

from amparo.settings import Settings
from amparo.store.database import Database


class RecordsService:
    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        from amparo.audit.trail import AuditTrail

        self.settings = settings
        settings.check_production_secrets()
        settings.ensure_dirs()
        self.db = Database.sealed(settings.resolved_database_url, settings.keys_dir)
        if migrate:
            self.db.migrate(only_if_behind=True)
        # The same signing key and pin as the full Service's audit trail (cases/components.py).
        self.audit: Any = AuditTrail(settings.keys_dir, pinned_key_id=settings.audit_key_id)

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> RecordsService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
