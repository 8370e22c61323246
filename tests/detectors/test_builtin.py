"""Registration of the built-in detectors from settings."""

from __future__ import annotations

import pytest

from amparo.errors import ConfigurationError
from amparo.settings import Settings
from amparo.signals.classifiers.builtin import register_builtin_detectors, selected_detectors
from amparo.signals.classifiers.nudity import nudenet_available
from amparo.signals.registry import DetectorRegistry


def _registry(spec: str) -> DetectorRegistry:
    reg = DetectorRegistry()
    register_builtin_detectors(reg, Settings(detectors=spec))
    return reg


def test_default_registers_the_three_stages_without_loading():
    reg = _registry("default")
    assert reg.names == ["nudity.opennsfw", "faces_age", "provenance"]
    assert reg.stage_of("nudity.opennsfw") == "nudity"
    assert reg.stage_of("faces_age") == "faces_age"
    assert reg.stage_of("provenance") == "provenance"
    assert reg._instances == {}  # factories only: no model loaded yet


def test_none_and_lists():
    assert _registry("none").names == []
    assert _registry("provenance").names == ["provenance"]
    assert selected_detectors("default, provenance") == [
        "nudity.opennsfw",
        "faces_age",
        "provenance",
    ]
    with pytest.raises(ConfigurationError, match="unknown detector"):
        selected_detectors("nudity.magic")


def test_nudenet_only_when_named_and_installed():
    assert "nudity.nudenet" not in _registry("default").names
    reg = _registry("default,nudity.nudenet")
    assert ("nudity.nudenet" in reg.names) == nudenet_available()


def test_registered_detectors_satisfy_the_protocol():
    from amparo.signals.base import ImageDetector

    reg = _registry("provenance")
    det = reg.get("provenance")
    assert isinstance(det, ImageDetector) and det.name == "provenance" and det.stage == "provenance"
