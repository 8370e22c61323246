"""Build the review, evidence and audit parts once per process (Service.create calls this)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from amparo.audit.trail import AuditTrail
from amparo.cases.workflow import CaseService
from amparo.errors import ConfigurationError
from amparo.evidence.retention import RetentionProfile
from amparo.evidence.vault import Vault
from amparo.settings import Settings
from amparo.store.database import Database

DEFAULT_EXPOSURE_DAILY_LIMIT = 50
SESSION_SECRET_FILE = "ui_session_secret"


@dataclass(frozen=True)
class ReviewConfig:
    exposure_daily_limit: int = DEFAULT_EXPOSURE_DAILY_LIMIT
    session_hours: float = 12.0  # absolute lifetime of a sign-in
    idle_minutes: float = 60.0  # signed out after this long without a request
    sign_in_window_minutes: float = 15.0
    max_failures_per_name: int = 5
    max_failures_per_ip: int = 20


@dataclass
class ReviewComponents:
    audit: AuditTrail
    vault: Vault
    cases: CaseService
    config: ReviewConfig
    session_secret: bytes


def review_config_from(settings: Settings) -> ReviewConfig:
    """Reads optional Settings fields so that the core can add them without a change here."""
    return ReviewConfig(
        exposure_daily_limit=int(
            getattr(settings, "exposure_daily_limit", None) or DEFAULT_EXPOSURE_DAILY_LIMIT
        ),
    )


def load_session_secret(settings: Settings) -> bytes:
    if settings.session_secret:
        if len(settings.session_secret) < 32:
            raise ConfigurationError("AMPARO_SESSION_SECRET needs at least 32 characters")
        return settings.session_secret.encode()
    if settings.is_production:
        raise ConfigurationError("production needs AMPARO_SESSION_SECRET")
    path: Path = settings.keys_dir / SESSION_SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def build_review_components(
    settings: Settings,
    db: Database,
    *,
    retention: dict[str, RetentionProfile] | None = None,
    config: ReviewConfig | None = None,
) -> ReviewComponents:
    """Audit trail (signing key in keys_dir), vault (refuses a missing or wrong master key)
    and the case workflow. The database must be migrated first."""
    settings.ensure_dirs()
    audit = AuditTrail(settings.keys_dir, pinned_key_id=settings.audit_key_id)
    vault = Vault.open(settings, db, audit, retention=retention)
    return ReviewComponents(
        audit=audit,
        vault=vault,
        cases=CaseService(audit=audit, vault=vault),
        config=config or review_config_from(settings),
        session_secret=load_session_secret(settings),
    )
