"""Faces and apparent age on benign photos: adults found and aged as adults, no faces where none."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from amparo.content.images import decode_image
from amparo.errors import DetectorFailed
from amparo.signals.classifiers.age_estimation import (
    AGE_MODEL_FILE,
    LANDMARK_MODEL_FILE,
    DlibAgeEstimator,
    summarise,
)
from amparo.signals.classifiers.face_detection import FaceBox, LibFaceDetector, box_iou

from .sample_images import encode, paste_scaled, procedural, skimage_rgb

ASTRONAUT_FACE = FaceBox(177, 61, 271, 175, 1.0)  # Eileen Collins, NASA portrait in scikit-image


def _iou(a: list[int], b: FaceBox) -> float:
    return box_iou(FaceBox(*a, 1.0), b)


def _classify(detector, rgb: np.ndarray):
    data = encode(rgb)
    return detector.classify(decode_image(data), data)


def test_astronaut_is_one_adult_face(faces_age):
    c = _classify(faces_age, skimage_rgb("astronaut"))
    assert c.score("faces") == 1
    (face,) = c.details["faces"]
    assert _iou(face["box"], ASTRONAUT_FACE) > 0.5
    assert face["age"] >= 18
    assert face["age_low"] <= face["age"] <= face["age_high"]
    assert c.scores["min_age"] == face["age_low"]
    assert c.score("minor") < 0.5
    assert c.details["face_detector"] == "libfacedetection-yunet"
    assert c.details["age_model"] == "dlib-age-v1+dlib-face-descriptor-v1"


def test_cameraman_turned_face_is_found_and_adult(faces_age):
    # A three-quarter view that dlib's frontal HOG detector misses.
    c = _classify(faces_age, skimage_rgb("camera"))
    assert c.score("faces") >= 1
    assert max(f["age"] for f in c.details["faces"]) >= 18
    assert c.score("minor") < 0.5


@pytest.mark.parametrize("picture_px", [170, 200])
def test_small_faces_in_a_large_image_are_found(faces_age, picture_px):
    # The astronaut picture scaled so her face is ~28 / ~33 px wide on a 1024x1024 canvas.
    canvas = paste_scaled(procedural(3, 1024, 1024), skimage_rgb("astronaut"), picture_px, (400, 300))
    c = _classify(faces_age, canvas)
    assert c.score("faces") == 1
    (face,) = c.details["faces"]
    left, top, right, bottom = face["box"]
    assert left >= 400 and right <= 400 + picture_px and top >= 300 and bottom <= 300 + picture_px
    assert right - left <= 40


def test_no_faces_on_the_bridge_photos(faces_age, bridge_images):
    assert len(bridge_images) >= 20
    for name, img, data in bridge_images:
        c = faces_age.classify(img, data)
        assert c.score("faces") == 0, (name, c.details["faces"])
        assert "min_age" not in c.scores
        assert c.score("minor") == 0.0


def test_no_faces_on_other_benign_pictures(faces_age, benign_images, sample_images):
    for name, img, data in benign_images + sample_images:
        if name in ("astronaut", "camera"):
            continue
        c = faces_age.classify(img, data)
        assert c.score("faces") == 0, (name, c.details["faces"])


def test_animated_frames_are_examined(faces_age):
    frames = [Image.fromarray(procedural(seed, 512, 512)) for seed in range(3)]
    frames.append(Image.fromarray(skimage_rgb("astronaut")))
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    img = decode_image(buf.getvalue())
    c = faces_age.classify(img, buf.getvalue())
    assert c.details["frames"] == 4
    assert c.score("faces") == 1
    assert c.details["faces"][0]["frame"] == 3


def test_runs_on_one_thread(faces_age):
    img = decode_image(encode(paste_scaled(procedural(5, 1024, 1024), skimage_rgb("astronaut"), 300, (10, 10))))
    faces_age.classify(img, b"")
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(6):
        faces_age.classify(img, b"")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert cpu / wall < 1.3, (cpu, wall)


def test_missing_age_model_fails_at_load(tmp_path: Path):
    with pytest.raises(DetectorFailed, match="missing"):
        DlibAgeEstimator(model_dir=tmp_path).load()


def test_substituted_age_model_is_refused(tmp_path: Path):
    (tmp_path / AGE_MODEL_FILE).write_bytes(b"\0" * 1000)
    (tmp_path / LANDMARK_MODEL_FILE).write_bytes(b"\0" * 1000)
    with pytest.raises(DetectorFailed, match="sha256"):
        DlibAgeEstimator(model_dir=tmp_path).load()


def test_face_detector_rejects_non_rgb():
    det = LibFaceDetector()
    with pytest.raises(DetectorFailed, match="RGB"):
        det.detect(np.zeros((64, 64), np.uint8))


def _peaked(age: int, width: float = 1.5) -> np.ndarray:
    ages = np.array([0.25] + list(range(1, 81)))
    p = np.exp(-0.5 * ((ages - age) / width) ** 2)
    return p / p.sum()


def test_uncertainty_and_minor_probability():
    child, adult = summarise(_peaked(10), 80), summarise(_peaked(40), 80)
    assert child.age == pytest.approx(10, abs=0.5) and adult.age == pytest.approx(40, abs=0.5)
    assert child.p_minor > 0.95 and adult.p_minor < 0.01
    assert child.age_low < child.age < child.age_high
    # Around the boundary the score is uncertain, not a coin flip hidden as certainty.
    young_adult = summarise(_peaked(20), 80)
    assert 0.1 < young_adult.p_minor < 0.5 and young_adult.age_low < 18


def test_small_faces_get_wider_intervals():
    big, small, tiny = (summarise(_peaked(30), px) for px in (80, 24, 14))
    assert big.age == small.age == tiny.age
    assert (big.age_high - big.age_low) < (small.age_high - small.age_low) < (tiny.age_high - tiny.age_low)
