"""Load a policy (YAML + profile) and evaluate it: a pure function of Facts → PolicyResult."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from amparo.domain.verdicts import Decision, Reason
from amparo.errors import ConfigurationError
from amparo.policy.conditions import ConditionError, evaluate, validate_condition
from amparo.policy.facts import Facts
from amparo.policy.model import PolicyDocument, Profile, Retention, Rule

POLICY_DIR = Path(__file__).parent
DEFAULT_POLICY = POLICY_DIR / "default.yaml"
PROFILES_DIR = POLICY_DIR / "profiles"


@dataclass(frozen=True)
class PolicyResult:
    decision: Decision
    labels: tuple[str, ...]
    reasons: tuple[Reason, ...]
    actions: tuple[str, ...]
    case_priority: int | None


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"policy file not found: {path}") from None
    except yaml.YAMLError as e:
        raise ConfigurationError(f"{path}: not valid YAML: {e}") from None


def _format_validation(path: Path, e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err["loc"])
        parts.append(f"{loc}: {err['msg']}")
    return f"{path}: invalid policy: " + "; ".join(parts)


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


class PolicyEngine:
    def __init__(self, document: PolicyDocument, profile: Profile | None = None, source: str = "") -> None:
        self.document = document
        self.profile = profile
        self.source = source
        self.thresholds: dict[str, float] = {**document.thresholds, **(profile.thresholds if profile else {})}
        rules: list[Rule] = []
        overrides = profile.overrides if profile else {}
        for rule in [*document.rules, *(profile.extra_rules if profile else [])]:
            if rule.id in overrides:
                try:
                    rule = Rule.model_validate({**rule.model_dump(), **overrides[rule.id]})
                except ValidationError as e:
                    raise ConfigurationError(f"profile override for {rule.id}: {e}") from None
            rules.append(rule)
        if not document.fail_closed:
            # Fail-open: a failed detector is reported in the verdict's errors but decides nothing.
            rules = [r for r in rules if r.label != "detector_failure"]
        unknown = set(overrides) - {r.id for r in rules}
        if unknown:
            raise ConfigurationError(
                f"profile {profile.name if profile else ''} overrides unknown rules: {sorted(unknown)}"
            )
        seen: set[str] = set()
        for r in rules:
            if r.id in seen:
                raise ConfigurationError(f"{source}: rule id {r.id!r} used twice")
            seen.add(r.id)
            try:
                validate_condition(r.when, f"rule {r.id}.when")
                self._check_thresholds(r.when, r.id)
            except ConditionError as e:
                raise ConfigurationError(f"{source}: {e}") from None
        self.rules = tuple(rules)

    def _check_thresholds(self, cond: Any, rule_id: str) -> None:
        if isinstance(cond, dict):
            for v in cond.values():
                self._check_thresholds(v, rule_id)
        elif isinstance(cond, list):
            for v in cond:
                self._check_thresholds(v, rule_id)
        elif isinstance(cond, str) and cond.startswith("$") and cond[1:] not in self.thresholds:
            raise ConditionError(f"rule {rule_id}: unknown threshold {cond!r}")

    @classmethod
    def load(cls, path: Path | None = None, profile: str | None = None) -> PolicyEngine:
        path = path or DEFAULT_POLICY
        raw = _load_yaml(path)
        try:
            doc = PolicyDocument.model_validate(raw)
        except ValidationError as e:
            raise ConfigurationError(_format_validation(path, e)) from None
        prof = None
        name = profile or doc.default_profile
        if name:
            ppath = PROFILES_DIR / f"{name}.yaml"
            if not ppath.exists():
                raise ConfigurationError(
                    f"unknown policy profile {name!r}; available: {', '.join(available_profiles())}"
                )
            try:
                prof = Profile.model_validate(_load_yaml(ppath))
            except ValidationError as e:
                raise ConfigurationError(_format_validation(ppath, e)) from None
        return cls(doc, prof, source=str(path))

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the effective policy (document + profile), stable across processes."""
        body = {
            "document": self.document.model_dump(mode="json"),
            "profile": self.profile.model_dump(mode="json") if self.profile else None,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    @property
    def name(self) -> str:
        return self.document.name

    @property
    def profile_name(self) -> str | None:
        return self.profile.name if self.profile else None

    @property
    def retention(self) -> Retention:
        if self.profile and self.profile.retention:
            return self.profile.retention
        return self.document.retention

    @property
    def report_to(self) -> list[str]:
        return list(self.profile.report_to) if self.profile else []

    def evaluate(self, facts: Facts) -> PolicyResult:
        reasons: list[Reason] = []
        labels: list[str] = []
        actions: list[str] = []
        priority: int | None = None
        decision = Decision.ALLOW
        for rule in self.rules:
            ok, evidence = evaluate(rule.when, facts, self.thresholds)
            if not ok:
                continue
            reasons.append(Reason(rule.id, rule.label, rule.decision, rule.description or rule.id, tuple(evidence)))
            if rule.label and rule.label not in labels:
                labels.append(rule.label)
            for a in rule.actions:
                if a not in actions:
                    actions.append(a)
            if rule.decision.severity > decision.severity:
                decision = rule.decision
            if rule.priority is not None:
                priority = rule.priority if priority is None else min(priority, rule.priority)
        # The decisive reason first, then the rest in rule order.
        reasons.sort(key=lambda r: -r.decision.severity)
        return PolicyResult(decision, tuple(labels), tuple(reasons), tuple(actions), priority)
