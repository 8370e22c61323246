"""The one registry of signal types and detectors. Built-ins register like plugins would
(entry points in the group `amparo.signals` / `amparo.detectors` are loaded too)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import entry_points

from amparo.errors import BadInput, ConfigurationError
from amparo.signals.base import ImageDetector, ImageHasher
from amparo.signals.hashes.cryptographic import MD5, SHA1, SHA256
from amparo.signals.hashes.pdq import PdqHasher
from amparo.signals.hashes.url import URL_SHA256

# Aliases accepted from other systems' formats (HMA/pytx call PDQ "pdq", NCMEC "PDQ"/"MD5").
_ALIASES = {"photo_md5": "md5", "video_md5": "md5", "sha-256": "sha256", "sha-1": "sha1"}


class SignalRegistry:
    def __init__(self, hashers: Iterable[ImageHasher] = ()) -> None:
        self._hashers: dict[str, ImageHasher] = {}
        for h in hashers:
            self.register(h)

    def register(self, hasher: ImageHasher) -> None:
        if hasher.name in self._hashers:
            raise ConfigurationError(f"signal type {hasher.name!r} registered twice")
        self._hashers[hasher.name] = hasher

    def get(self, name: str) -> ImageHasher:
        key = _ALIASES.get(name.lower(), name.lower())
        try:
            return self._hashers[key]
        except KeyError:
            known = ", ".join(sorted(self._hashers))
            raise BadInput(f"unknown signal type {name!r} (known: {known})", code="unknown_signal_type") from None

    def canonical_name(self, name: str) -> str:
        return self.get(name).name

    @property
    def names(self) -> list[str]:
        return list(self._hashers)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._hashers.values())


def default_signal_registry(*, pdq_fast_lookup: bool = False) -> SignalRegistry:
    reg = SignalRegistry([PdqHasher(fast=pdq_fast_lookup), MD5, SHA1, SHA256, URL_SHA256])
    for ep in entry_points(group="amparo.signals"):
        reg.register(ep.load()())
    return reg


DetectorFactory = Callable[[], ImageDetector]


class DetectorRegistry:
    """Detectors by name; factories are called lazily so unused models are never loaded."""

    def __init__(self) -> None:
        self._factories: dict[str, DetectorFactory] = {}
        self._stages: dict[str, str] = {}
        self._instances: dict[str, ImageDetector] = {}

    def register(self, name: str, stage: str, factory: DetectorFactory, *, replace: bool = False) -> None:
        if name in self._factories and not replace:
            raise ConfigurationError(f"detector {name!r} registered twice")
        self._factories[name] = factory
        self._stages[name] = stage
        self._instances.pop(name, None)

    def register_instance(self, detector: ImageDetector, *, replace: bool = True) -> None:
        """Register a ready detector (tests inject stand-ins this way)."""
        self.register(detector.name, detector.stage, lambda: detector, replace=replace)
        self._instances[detector.name] = detector

    def unregister(self, name: str) -> None:
        self._factories.pop(name, None)
        self._stages.pop(name, None)
        self._instances.pop(name, None)

    def stage_of(self, name: str) -> str:
        return self._stages[name]

    def get(self, name: str) -> ImageDetector:
        if name not in self._instances:
            try:
                factory = self._factories[name]
            except KeyError:
                raise ConfigurationError(f"unknown detector {name!r}") from None
            self._instances[name] = factory()
        return self._instances[name]

    @property
    def names(self) -> list[str]:
        return list(self._factories)

    def names_for_stage(self, stage: str) -> list[str]:
        return [n for n, s in self._stages.items() if s == stage]
