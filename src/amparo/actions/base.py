"""Action interface and registry. A policy rule names actions; the pipeline runs them in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from amparo.content.images import DecodedImage
from amparo.domain.items import Item
from amparo.domain.verdicts import Verdict
from amparo.errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass
class ActionContext:
    """What an action may read and write. `session` is the transaction the event is written in,
    so an action's rows commit together with the event (nothing half-written)."""

    item: Item
    verdict: Verdict
    session: Session
    event_id: int
    decoded: DecodedImage | None = None
    results: dict[str, Any] = field(default_factory=dict)  # action name → what it did (ids)


class Action(Protocol):
    name: str

    def run(self, ctx: ActionContext) -> dict[str, Any] | None: ...


class ActionRegistry:
    def __init__(self) -> None:
        self._actions: dict[str, Action] = {}

    def register(self, action: Action, *, replace: bool = False) -> None:
        if action.name in self._actions and not replace:
            raise ConfigurationError(f"action {action.name!r} registered twice")
        self._actions[action.name] = action

    def has(self, name: str) -> bool:
        return name in self._actions

    @property
    def names(self) -> list[str]:
        return list(self._actions)

    def run(self, names: list[str] | tuple[str, ...], ctx: ActionContext) -> dict[str, Any]:
        for name in names:
            action = self._actions.get(name)
            if action is None:
                continue  # decisions like "block"/"refuse" need no side effect beyond the verdict
            out = action.run(ctx)
            ctx.results[name] = out if out is not None else True
        return ctx.results


@dataclass
class FunctionAction:
    name: str
    fn: Callable[[ActionContext], dict[str, Any] | None]

    def run(self, ctx: ActionContext) -> dict[str, Any] | None:
        return self.fn(ctx)
