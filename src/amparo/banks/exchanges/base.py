"""The exchange interface, the records adapters yield, and the registry of adapters.

An adapter turns a partner's protocol into pages of `Record`s, each page with the cursor that
resumes after it. The sync engine (sync.py) validates every record, applies the page and stores
the cursor in one transaction. Built-in adapters register the same way plugins do: plugins
declare an entry point in the group `amparo.exchanges` naming an `ExchangeType`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol

from amparo.errors import BadInput, ConfigurationError

OPS = ("add", "remove")


@dataclass(frozen=True)
class Record:
    """One change fetched from a partner. `signal_type` is the partner's own name until the
    adapter maps it; an adapter that cannot map one passes `unsupported=True` (counted, skipped)."""

    op: str  # add | remove
    signal_type: str
    value: str
    opinion: str = "positive"
    external_id: str | None = None
    metadata: dict[str, Any] | None = None
    unsupported: bool = False


@dataclass
class Page:
    records: list[Record]
    cursor: Any  # JSON: resumes after this page
    malformed: list[dict[str, Any]] = field(default_factory=list)  # records the adapter could not parse


@dataclass(frozen=True)
class Feedback:
    """What we tell a partner about one of its hashes: seen | false_positive | confirmed."""

    signal_type: str
    value: str
    kind: str
    external_id: str | None = None
    note: str | None = None


class ExchangeClient(Protocol):
    """One configured exchange, ready to talk to its partner."""

    def fetch(self, cursor: Any) -> Iterator[Page]:
        """Pages after `cursor` (None = from the start), oldest first."""
        ...

    def submit(self, records: list[Record]) -> int:
        """Share our hashes with the partner (raises `NotSupported` where the partner has no such call)."""
        ...

    def feedback(self, items: list[Feedback]) -> int:
        """Report opinions on the partner's hashes."""
        ...


class NotSupported(BadInput):
    code = "not_supported"


@dataclass(frozen=True)
class ExchangeType:
    """A registered adapter: its stable stored name, what its config needs, and its factory."""

    name: str
    description: str
    build: Callable[[dict[str, Any], Any], ExchangeClient]  # (config, service) -> client
    required: tuple[str, ...] = ()  # config keys that must be present
    secrets: tuple[str, ...] = ()  # config keys naming environment variables that hold secrets


class ExchangeRegistry:
    def __init__(self) -> None:
        self._types: dict[str, ExchangeType] = {}

    def register(self, t: ExchangeType, *, replace: bool = False) -> None:
        if t.name in self._types and not replace:
            raise ValueError(f"exchange type {t.name!r} already registered")
        self._types[t.name] = t

    def get(self, name: str) -> ExchangeType:
        t = self._types.get(name)
        if t is None:
            raise BadInput(f"unknown exchange type {name!r}: one of {', '.join(sorted(self._types))}", code="bad_kind")
        return t

    @property
    def names(self) -> list[str]:
        return sorted(self._types)

    def check_config(self, kind: str, config: dict[str, Any]) -> None:
        t = self.get(kind)
        missing = [k for k in t.required if not config.get(k)]
        if missing:
            raise BadInput(f"exchange type {kind!r} needs {', '.join(missing)}", code="bad_exchange_config")
        for k in t.secrets:
            v = config.get(k)
            if v is not None and not (isinstance(v, str) and v.replace("_", "").isalnum()):
                raise BadInput(
                    f"{k} names an environment variable (the secret itself is never stored)", code="bad_exchange_config"
                )


def secret(config: dict[str, Any], key: str) -> str:
    """The secret whose environment variable the config names (never stored in the database)."""
    var = config.get(key)
    if not var:
        raise ConfigurationError(f"exchange config lacks {key} (the name of an environment variable)")
    value = os.environ.get(str(var))
    if not value:
        raise ConfigurationError(f"environment variable {var} (for {key}) is not set")
    return value


_default: ExchangeRegistry | None = None


def default_registry() -> ExchangeRegistry:
    """Built-ins, then plugins from the `amparo.exchanges` entry point group."""
    global _default
    if _default is None:
        from amparo.banks.exchanges import amparo_peer, ncmec, stopncii, threatexchange

        reg = ExchangeRegistry()
        for mod in (ncmec, stopncii, threatexchange, amparo_peer):
            reg.register(mod.EXCHANGE_TYPE)
        for ep in entry_points(group="amparo.exchanges"):
            reg.register(ep.load())
        _default = reg
    return _default


def record_audit(
    session: Any, who: Any, action: str, subject_type: str, subject_id: str, details: dict[str, Any]
) -> None:
    """An audit record for an exchange or partner act (`who` is a banks.management.Acting)."""
    if who.audit is not None:
        who.audit.record(
            session,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            actor=who.actor,
            actor_role=who.role,
            details=details,
        )
