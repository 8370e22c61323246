"""Registers the review room's actions: "quarantine" (preserve in the vault) and "open_case"."""

from __future__ import annotations

from typing import Any

from amparo.actions.base import ActionRegistry
from amparo.actions.open_case import OpenCaseAction
from amparo.actions.quarantine import QuarantineAction


def register_review_actions(registry: ActionRegistry, service: Any) -> None:
    """`service` provides `.vault` (evidence.Vault) and `.cases` (cases.CaseService)."""
    registry.register(QuarantineAction(service.vault))
    registry.register(OpenCaseAction(service.cases))
