"""A light base for typed settings read from environment variables.

It does for Settings what pydantic-settings did, without importing it or building a model: those
two cost a light CLI verb (`amparo keys create`) a tenth of its start-up. Fields are class
annotations with defaults, as in a dataclass; `setting()` adds a description or a default factory.
Each value comes from a keyword override, else PREFIX + NAME in the environment (in any case), else
the default, converted to the field's type: str, int, float, bool, Path, or one of them | None.
A value that does not convert is a ConfigurationError naming the variable.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self, dataclass_transform

from amparo.errors import ConfigurationError

_MISSING: Any = object()
# The words pydantic accepted for booleans, so that existing environments keep their meaning.
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_KINDS: dict[type, str] = {str: "text", int: "an integer", float: "a number", bool: "true or false", Path: "a path"}


@dataclass(frozen=True)
class _Spec:
    default: Any = _MISSING
    default_factory: Callable[[], Any] | None = None
    description: str = ""


def setting(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None, description: str = "") -> Any:
    """A field with a description or a default computed at construction (typed Any, as
    dataclasses.field is, so that `name: T = setting(...)` checks)."""
    return _Spec(default, default_factory, description)


def _parse(kind: type, text: str) -> Any:
    if kind is str:
        return text
    if kind is bool:
        word = text.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError(text)
    if kind is int:
        try:
            return int(text)
        except ValueError:
            number = float(text)  # "8000.0" was accepted; "8000.5" was not
            if number.is_integer():
                return int(number)
            raise
    if kind is float:
        return float(text)
    return Path(text)


@dataclass(frozen=True)
class SettingField:
    """One setting: its type (`kind`, and whether None is allowed), default and description."""

    name: str
    kind: type
    optional: bool
    default: Any
    default_factory: Callable[[], Any] | None
    description: str

    def make_default(self) -> Any:
        return self.default_factory() if self.default_factory is not None else self.default

    def convert(self, value: Any, source: str) -> Any:
        """`value` as this field's type; `source` names where it came from, for the error."""
        if value is None and self.optional:
            return None
        try:
            if isinstance(value, str):
                return _parse(self.kind, value)
            if self.kind is float and isinstance(value, int | float):
                return float(value)
            if self.kind is int and isinstance(value, float) and value.is_integer():
                return int(value)
            if self.kind is Path and isinstance(value, os.PathLike):
                return Path(value)
            if isinstance(value, self.kind):
                return value
        except ValueError:
            pass
        none = " or nothing" if self.optional else ""
        raise ConfigurationError(f"{source}={value!r}: expected {_KINDS[self.kind]}{none}")


def _field(owner: type, name: str, hint: Any, raw: Any) -> SettingField:
    args = typing.get_args(hint)
    optional = type(None) in args
    if optional:
        rest = [a for a in args if a is not type(None)]
        hint = rest[0] if len(rest) == 1 else None
    if hint not in _KINDS:
        raise TypeError(f"{owner.__name__}.{name}: settings are str, int, float, bool or Path (or | None)")
    spec = raw if isinstance(raw, _Spec) else _Spec(default=raw)
    if spec.default is _MISSING and spec.default_factory is None:
        raise TypeError(f"{owner.__name__}.{name} needs a default")
    return SettingField(name, hint, optional, spec.default, spec.default_factory, spec.description)


@dataclass_transform(kw_only_default=True, field_specifiers=(setting,))
class EnvSettings:
    """Subclass with annotated fields; instances hold every field as a plain attribute."""

    env_prefix: ClassVar[str] = ""
    model_fields: ClassVar[dict[str, SettingField]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hints = typing.get_type_hints(cls)
        fields = dict(cls.model_fields)
        for name in cls.__dict__.get("__annotations__", {}):
            if typing.get_origin(hints[name]) is ClassVar:
                continue
            raw = cls.__dict__.get(name, _MISSING)
            fields[name] = _field(cls, name, hints[name], raw)
            if isinstance(raw, _Spec):
                delattr(cls, name)  # every instance sets it
        cls.model_fields = fields

    def __init__(self, **overrides: Any) -> None:
        self._check_names(overrides)
        prefix = self.env_prefix.upper()
        env = {k.upper(): v for k, v in os.environ.items() if k.upper().startswith(prefix)}
        for name, f in self.model_fields.items():
            var = prefix + name.upper()
            if name in overrides:
                value = f.convert(overrides[name], name)
            elif var in env:
                value = f.convert(env[var], var)
            else:
                value = f.make_default()
            setattr(self, name, value)

    def _check_names(self, names: Mapping[str, Any]) -> None:
        unknown = sorted(set(names) - set(self.model_fields))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(unknown)}")

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Self:
        """A copy with some settings changed. Values derived from the old ones (cached properties)
        are not copied: the copy derives its own."""
        update = update or {}
        self._check_names(update)
        copy = object.__new__(type(self))
        for name, f in self.model_fields.items():
            setattr(copy, name, f.convert(update[name], name) if name in update else getattr(self, name))
        return copy

    def model_dump(self, *, mode: str = "python") -> dict[str, Any]:
        """Every setting by name; mode="json" gives paths as text."""
        data = {name: getattr(self, name) for name in self.model_fields}
        if mode == "json":
            data = {k: str(v) if isinstance(v, Path) else v for k, v in data.items()}
        return data

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, EnvSettings) and other.model_dump() == self.model_dump()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.model_dump().items())})"
