"""Service: the one core object (store + registries + index + pipeline), built the same way by the
CLI, the API, the proxy, the UI and the tests."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from amparo.actions.base import ActionRegistry
from amparo.actions.core_actions import register_core_actions
from amparo.matching.matcher import Matcher
from amparo.matching.video_matcher import VideoMatcher
from amparo.pipeline import Pipeline
from amparo.policy.engine import PolicyEngine
from amparo.settings import Settings
from amparo.signals.registry import DetectorRegistry, SignalRegistry, default_signal_registry
from amparo.store.database import Database

log = logging.getLogger(__name__)


def _optional(module: str) -> Any | None:
    """Import a room that may not be installed (an optional extra); None when absent."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and module.startswith(e.name):
            return None
        raise


class Service:
    def __init__(
        self,
        settings: Settings,
        *,
        detectors: DetectorRegistry | None = None,
        migrate: bool = True,
        load_detectors: bool = True,
    ) -> None:
        self.settings = settings
        settings.check_production_secrets()
        settings.ensure_dirs()
        # Per-row MACs of ledger, events, banks, cases and evidence metadata (integrity/mac.py).
        self.db = Database.sealed(settings.resolved_database_url, settings.keys_dir)
        if migrate:
            self.db.migrate()
        self.signals: SignalRegistry = default_signal_registry(pdq_fast_lookup=settings.pdq_fast_lookup)
        self.detectors = detectors or DetectorRegistry()
        if detectors is None and load_detectors and settings.detectors != "none":
            builtin = _optional("amparo.signals.classifiers.builtin")
            if builtin is not None:
                builtin.register_builtin_detectors(self.detectors, settings)
        self.matcher = Matcher(self.db, settings.index_dir, quality_floor=settings.pdq_quality_floor)
        self.video_matcher = VideoMatcher(
            self.db,
            settings.index_dir,
            quality_floor=settings.pdq_quality_floor,
            stale_after=settings.index_refresh_seconds,
        )
        self.policy = PolicyEngine.load(settings.policy_file, settings.profile)
        self.actions = ActionRegistry()
        register_core_actions(self.actions, report_to=self.policy.report_to)
        self.vault: Any = None
        self.audit: Any = None
        self.cases: Any = None
        review = _optional("amparo.cases.components")
        if review is not None:
            comps = review.build_review_components(settings, self.db)
            self.vault, self.audit, self.cases = comps.vault, comps.audit, comps.cases
            self.cases.report_to = self.policy.report_to
            review_actions = _optional("amparo.actions.review_actions")
            if review_actions is not None:
                review_actions.register_review_actions(self.actions, self)
            self._audit_policy_change()
            self._audit_settings_change()
        self.pipeline = Pipeline(
            settings=settings,
            db=self.db,
            signals=self.signals,
            detectors=self.detectors,
            matcher=self.matcher,
            policy=self.policy,
            actions=self.actions,
            prompt_detector=self._make_prompt_detector,
            video_matcher=self.video_matcher,
        )

    def _audit_policy_change(self) -> None:
        """Record in the audit trail when the policy in force differs from the last one recorded
        (a new file, an edited rule, another profile): which policy decided is evidence too."""
        from amparo.audit import names
        from amparo.store import audit_repo

        fingerprint = self.policy.fingerprint
        with self.db.session() as s:
            last = audit_repo.list_records(s, limit=1, action=names.POLICY_CHANGE)
            if last and last[0].details.get("fingerprint") == fingerprint:
                return
            self.audit.record(
                s,
                action=names.POLICY_CHANGE,
                subject_type="policy",
                subject_id=self.policy.name,
                details={
                    "fingerprint": fingerprint,
                    "source": self.policy.source,
                    "profile": self.policy.profile_name,
                    "rules": [r.id for r in self.policy.rules],
                    "previous": last[0].details.get("fingerprint") if last else None,
                },
            )

    def _audit_settings_change(self) -> None:
        """One record when the settings in force differ from the last recorded (never on a routine
        start). Secrets are never written: only whether each is set, and the vault's key id."""
        from amparo.audit import names
        from amparo.store import audit_repo

        current = settings_snapshot(self.settings)
        if self.vault is not None:
            current["vault_master_key_id"] = self.vault.master.key_id
            current["vault_master_key_source"] = self.vault.master.source.split(":", 1)[0]
        current["audit_key_id"] = self.audit.key_id
        if self.db.sealer is not None:
            current["integrity_key_id"] = self.db.sealer.key_id
        with self.db.session() as s:
            last = audit_repo.list_records(s, limit=1, action=names.SETTINGS_CHANGE)
            before = (last[0].details or {}).get("settings", {}) if last else {}
            if before == current:
                return
            changed = sorted(k for k in set(before) | set(current) if before.get(k) != current.get(k))
            self.audit.record(
                s,
                action=names.SETTINGS_CHANGE,
                subject_type="settings",
                subject_id="service",
                details={"settings": current, "changed": changed if last else ["(first recorded)"]},
            )

    def _make_prompt_detector(self) -> Any:
        from amparo.signals.classifiers.prompt_signal import PromptGateDetector

        return PromptGateDetector(max_chars=self.settings.max_prompt_chars)

    @classmethod
    def create(cls, settings: Settings | None = None, **kw: Any) -> Service:
        return cls(settings or Settings(), **kw)

    def close(self) -> None:
        self.matcher.close()
        self.video_matcher.close()
        self.db.dispose()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_SECRET_SUFFIXES = ("_key", "_secret", "_password", "_token")  # master_key, session_secret, upstream_api_key...


def settings_snapshot(settings: Settings) -> dict[str, Any]:
    """The settings as JSON values, without secrets (only whether each is set)."""
    data = settings.model_dump(mode="json")
    for k in list(data):
        if k.endswith(_SECRET_SUFFIXES):
            data[k] = data[k] is not None
    if settings.database_url:
        from sqlalchemy.engine import make_url

        data["database_url"] = make_url(settings.database_url).render_as_string(hide_password=True)
    return data
