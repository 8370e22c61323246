"""The reports room built once per process from the Service: its configuration (AMPARO_* variables,
secrets from files or the environment, never the database), the exporter registry and the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from amparo.errors import ConfigurationError
from amparo.reports.exporters import ExporterRegistry, ReportQueue
from amparo.reports.ncmec_client import EXTTEST_URL, NcmecClient, NcmecExporter
from amparo.reports.ncmec_xml import Reporter
from amparo.reports.sor import SorConfig, puid_key
from amparo.reports.sor_client import SorExporter, TdbClient


class ReportsConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AMPARO_", extra="ignore")

    provider_name: str = ""
    service_name: str = ""
    ncmec_url: str | None = None  # EXTTEST_URL while onboarding, then the production URL
    ncmec_username: str | None = None
    ncmec_password: str | None = None
    ncmec_password_file: Path | None = None
    ncmec_reporter_first_name: str = "Trust"
    ncmec_reporter_last_name: str = "Safety"
    ncmec_reporter_email: str | None = None
    ncmec_legal_url: str = ""
    ncmec_attempts: int = 3
    ncmec_backoff_seconds: float = 2.0
    dsa_tdb_url: str | None = None  # https://transparency.dsa.ec.europa.eu/api/v1 (or the sandbox)
    dsa_tdb_token: str | None = None
    dsa_tdb_token_file: Path | None = None
    dsa_reference_url: str | None = None  # the terms of service page statements cite

    def secret(self, value: str | None, path: Path | None) -> str | None:
        if path is not None:
            try:
                return path.read_text().strip()
            except OSError as e:
                raise ConfigurationError(f"cannot read {path}: {e}") from e
        return value


@dataclass
class Reports:
    service: Any
    config: ReportsConfig
    registry: ExporterRegistry
    queue: ReportQueue
    puid_key: bytes

    @property
    def db(self) -> Any:
        return self.service.db

    def read_prompt(self) -> Any:
        """The ledger's prompt reader (the proxy room's keys), or None when that room is absent."""
        try:
            from amparo.proxy.ledger import LedgerKeys
        except ModuleNotFoundError:
            return None
        keys = LedgerKeys.from_settings(self.service.settings)
        return lambda row: keys.decrypt_prompt(row.prompt_ciphertext, row.generation_id)

    def transparency(self, *, start: datetime, end: datetime) -> dict[str, Any]:
        from amparo.reports.transparency import transparency_report

        with self.db.session() as s:
            return transparency_report(
                s, start=start, end=end, provider=self.config.provider_name, service=self.config.service_name
            )


def build_reports(service: Any, *, config: ReportsConfig | None = None) -> Reports:
    if service.vault is None or service.audit is None:
        raise ConfigurationError("the reports room needs the review room (vault and audit trail)")
    cfg = config or ReportsConfig()
    registry = ExporterRegistry()
    password = cfg.secret(cfg.ncmec_password, cfg.ncmec_password_file)
    if cfg.ncmec_url and cfg.ncmec_username and password:
        if not cfg.ncmec_reporter_email:
            raise ConfigurationError("AMPARO_NCMEC_REPORTER_EMAIL is required to report to NCMEC")
        client = NcmecClient(
            cfg.ncmec_url,
            cfg.ncmec_username,
            password,
            attempts=cfg.ncmec_attempts,
            backoff_seconds=cfg.ncmec_backoff_seconds,
        )
        reporter = Reporter(
            cfg.ncmec_reporter_first_name,
            cfg.ncmec_reporter_last_name,
            cfg.ncmec_reporter_email,
            platform=cfg.service_name,
            legal_url=cfg.ncmec_legal_url,
        )
        registry.register(NcmecExporter(client, reporter))
    key = puid_key(service.vault.master.key)
    token = cfg.secret(cfg.dsa_tdb_token, cfg.dsa_tdb_token_file)
    if cfg.dsa_tdb_url and token:
        registry.register(
            SorExporter(
                TdbClient(cfg.dsa_tdb_url, token), key=key, config=SorConfig(reference_url=cfg.dsa_reference_url)
            )
        )
    queue = ReportQueue(db=service.db, audit=service.audit, vault=service.vault, registry=registry)
    return Reports(service=service, config=cfg, registry=registry, queue=queue, puid_key=key)


__all__ = ["EXTTEST_URL", "Reports", "ReportsConfig", "build_reports"]
