"""Everything a policy may read about one item: the evaluator's only input (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from amparo.domain.items import Context, ItemKind
from amparo.domain.matches import Match
from amparo.domain.signals import Classification


@dataclass(frozen=True)
class Facts:
    kind: ItemKind
    context: Context = field(default_factory=Context)
    matches: tuple[Match, ...] = ()
    suppressed: tuple[Match, ...] = ()  # positive matches cancelled by a safe bank
    classifications: tuple[Classification, ...] = ()
    #: classifications of an edit request's input image (kept apart from outputs' own)
    stages_run: tuple[str, ...] = ()
    attempts: Mapping[str, int] = field(default_factory=dict)  # label → recent attempts by the account
    extra: Mapping[str, Any] = field(default_factory=dict)

    def for_stage(self, stage: str) -> list[Classification]:
        return [c for c in self.classifications if c.stage == stage or c.detector == stage]

    def failed(self, stage: str | None = None) -> list[Classification]:
        return [c for c in self.classifications if c.error and (stage is None or c in self.for_stage(stage))]
