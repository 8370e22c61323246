"""Real detectors, loaded once per session, and the benign images they are checked on."""

from __future__ import annotations

from pathlib import Path

import pytest

from amparo.content.images import DecodedImage, decode_image
from amparo.signals.classifiers.faces_age import FacesAgeDetector
from amparo.signals.classifiers.nudity import OpenNsfwDetector
from amparo.signals.classifiers.provenance import ProvenanceDetector

from .sample_images import IMAGE_SUFFIXES, SKIMAGE_SAMPLES, encode, skimage_rgb


@pytest.fixture(scope="session")
def benign_files(shared_data: Path) -> list[Path]:
    files = sorted(
        p for p in (shared_data / "pdq").rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
    )
    assert len(files) >= 40
    return files


@pytest.fixture(scope="session")
def benign_images(benign_files: list[Path]) -> list[tuple[str, DecodedImage, bytes]]:
    """Every benign image of the shared data, decoded as the pipeline decodes it."""
    out = []
    for path in benign_files:
        data = path.read_bytes()
        out.append((path.name, decode_image(data), data))
    return out


@pytest.fixture(scope="session")
def sample_images() -> list[tuple[str, DecodedImage, bytes]]:
    import skimage.data  # noqa: F401  (a dev dependency: missing it must fail, not skip)
    out = []
    for name in SKIMAGE_SAMPLES:
        data = encode(skimage_rgb(name))
        out.append((name, decode_image(data), data))
    return out


@pytest.fixture(scope="session")
def bridge_images(
    benign_images: list[tuple[str, DecodedImage, bytes]],
) -> list[tuple[str, DecodedImage, bytes]]:
    return [t for t in benign_images if t[0].startswith("bridge") or t[0] in _BRIDGE_MODS]


_BRIDGE_MODS = {
    "aaa-orig.jpg",
    "blur-a-little.jpg",
    "blur-a-lot.jpg",
    "high-contrast.jpg",
    "high-saturation.jpg",
    "sharpen-a-little.jpg",
    "sharpen-a-lot.jpg",
    "shrink-a-little.jpg",
    "shrink-a-lot.jpg",
    "square-128x128.jpg",
    "square-256x256.jpg",
    "square-512x512.jpg",
}


@pytest.fixture(scope="session")
def nsfw() -> OpenNsfwDetector:
    det = OpenNsfwDetector()
    det.load()
    return det


@pytest.fixture(scope="session")
def faces_age() -> FacesAgeDetector:
    det = FacesAgeDetector()
    det.load()
    return det


@pytest.fixture(scope="session")
def provenance() -> ProvenanceDetector:
    det = ProvenanceDetector()
    det.load()
    return det
