"""The policy file's schema. Validated on load; errors name the rule and the field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from amparo.domain.labels import KNOWN_LABELS
from amparo.domain.verdicts import Decision


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_.\-]+$")
    description: str = ""
    when: dict[str, Any]
    label: str | None = None
    decision: Decision = Decision.ALLOW
    actions: list[str] = Field(default_factory=list)
    priority: int | None = None  # case priority hint for open_case (1 = highest)

    @field_validator("label")
    @classmethod
    def _known_label(cls, v: str | None) -> str | None:
        if v is not None and v not in KNOWN_LABELS:
            raise ValueError(f"unknown label {v!r}; known: {', '.join(KNOWN_LABELS)}")
        return v


class Cascade(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stop_on_known_match: bool = True
    faces_age_if_nudity_gte: float = 0.5
    faces_age_on_edit_requests: bool = True


class Retention(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reported_days: int = 365
    evidence_days: int = 90
    ledger_days: int = 365
    events_days: int = 365


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    jurisdiction: str = ""
    thresholds: dict[str, float] = Field(default_factory=dict)
    retention: Retention | None = None
    report_to: list[str] = Field(default_factory=list)  # e.g. ncmec, dsa_sor, es_fiscalia
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)  # rule id → {decision, actions, label}
    extra_rules: list[Rule] = Field(default_factory=list)


class PolicyDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    version: int = 1
    description: str = ""
    thresholds: dict[str, float] = Field(default_factory=dict)
    cascade: Cascade = Field(default_factory=Cascade)
    fail_closed: bool = True
    retention: Retention = Field(default_factory=Retention)
    rules: list[Rule]
    default_profile: str | None = None
