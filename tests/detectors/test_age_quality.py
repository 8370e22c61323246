"""Per-face fields of the age stage on benign photos: faces too blurred or small to judge are
`minor: null` (unsure) and never decide; clear adult faces are `minor: false`."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from amparo.content.images import decode_image
from amparo.signals.classifiers.face_quality import laplacian_variance, yaw_from_landmarks

from .sample_images import encode, skimage_rgb

FACE_KEYS = {"box", "score", "age", "age_low", "age_high", "p_minor", "p_minor_raw", "minor", "quality", "models"}


def _classify(detector, img: Image.Image):  # type: ignore[no-untyped-def]
    data = encode(np.asarray(img))
    return detector.classify(decode_image(data), data)


def test_clear_adult_face_has_every_field_and_is_no_minor(faces_age) -> None:
    c = _classify(faces_age, Image.fromarray(skimage_rgb("astronaut")))
    (face,) = c.details["faces"]
    assert set(face) == FACE_KEYS
    # p_minor ~0.14: above the 0.02 that keeps 99.5% of minors out of "confident adult", so the
    # face is unsure (null), never a minor; with no nudity that changes nothing
    assert face["minor"] is None and face["quality"]["ok"] and face["quality"]["problems"] == []
    assert face["age_low"] <= face["age"] <= face["age_high"] and face["age_low"] >= 18
    assert 0.02 <= face["p_minor"] < 0.3
    # the default stage: the age network and the face descriptor's minor head (detectors extra)
    assert face["models"] == ["dlib-age-v1", "dlib-face-descriptor-v1"]
    assert c.scores["unsure_faces"] == 0 and c.scores["minor"] == face["p_minor"]
    assert c.details["calibration"].startswith("FairFace")
    assert c.details["thresholds"] == {"minor_at": 0.9, "adult_below": 0.02}


@pytest.mark.parametrize(
    ("name", "transform", "problem"),
    [
        ("blurred", lambda im: im.filter(ImageFilter.GaussianBlur(4)), "blurred"),
        ("small", lambda im: im.resize((100, 100)), "small"),
    ],
)
def test_faces_too_poor_to_judge_are_unsure(faces_age, name, transform, problem) -> None:
    c = _classify(faces_age, transform(Image.fromarray(skimage_rgb("astronaut"))))
    (face,) = c.details["faces"]
    assert face["minor"] is None, name
    assert problem in face["quality"]["problems"] and face["quality"]["ok"] is False
    # an unsure face never counts as an adult nor as a minor: the policy sees it apart
    assert c.scores["unsure_faces"] == 1 and c.scores["minor"] == 0.0


def test_minor_decision_bands(faces_age) -> None:
    assert faces_age.minor_decision(0.9, True) is True
    assert faces_age.minor_decision(0.3, True) is None
    assert faces_age.minor_decision(0.01, True) is False
    assert faces_age.minor_decision(0.99, False) is None


def test_quality_measures() -> None:
    flat = np.full((64, 64, 3), 128, np.uint8)
    noisy = np.random.default_rng(1).integers(0, 255, (64, 64, 3)).astype(np.uint8)
    assert laplacian_variance(flat) == 0.0 < laplacian_variance(noisy)
    frontal = np.array([[10, 10], [20, 10], [40, 10], [30, 10], [25, 30]], float)
    turned = frontal.copy()
    turned[4, 0] = 38
    assert abs(yaw_from_landmarks(frontal)) < 0.05 and abs(yaw_from_landmarks(turned)) > 0.4
    assert yaw_from_landmarks(np.zeros((5, 2))) == 1.0
