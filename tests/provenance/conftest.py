"""Fixtures for the provenance tests: benign images (procedural + the shared bridge photos)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from amparo.provenance.keys import ProvenanceKeyPaths, init_provenance_keys
from amparo.provenance.watermark_samples import draw_benign_image

from .image_transforms import RGBArray, shared_pdq_dir


@pytest.fixture(scope="session")
def bridge_1024() -> RGBArray:
    path = shared_pdq_dir() / "bridge-mods" / "aaa-orig.jpg"
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB").resize((1024, 1024), Image.Resampling.LANCZOS))


@pytest.fixture(scope="session")
def benign_1024() -> list[RGBArray]:
    """Flat gradient, landscape, shapes and plasma: the smooth ones are the hard cases."""
    kinds = ("flat_gradient", "landscape", "shapes", "plasma")
    return [np.asarray(draw_benign_image(i, 1024, kind)) for i, kind in enumerate(kinds)]


@pytest.fixture(scope="session")
def provenance_keys(tmp_path_factory: pytest.TempPathFactory) -> ProvenanceKeyPaths:
    return init_provenance_keys(tmp_path_factory.mktemp("prov-keys"), "Test Org")
