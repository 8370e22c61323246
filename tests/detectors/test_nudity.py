"""open_nsfw on benign images only (POLICY.md): no false alarm, one thread, frames, failures."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from amparo.content.images import DecodedImage, decode_image
from amparo.errors import DetectorFailed
from amparo.signals.classifiers.nudity import NudeNetDetector, OpenNsfwDetector, nudenet_available

from .sample_images import procedural

# The documented benign ceiling (docs/detectors.md): benign images score 0.00-0.14 here.
BENIGN_NUDITY_MAX = 0.5


def test_no_false_alarm_on_shared_benign_images(nsfw, benign_images):
    scores = {name: nsfw.classify(img, data).score("nudity") for name, img, data in benign_images}
    worst = max(scores, key=lambda n: scores[n])
    assert scores[worst] < BENIGN_NUDITY_MAX, (worst, scores[worst])


def test_no_false_alarm_on_package_sample_images(nsfw, sample_images):
    for name, img, data in sample_images:
        c = nsfw.classify(img, data)
        assert c.detector == "nudity.opennsfw"
        assert 0.0 <= c.score("nudity") < BENIGN_NUDITY_MAX, name
        assert c.elapsed_ms > 0


def test_runs_on_one_thread(nsfw):
    img = decode_image(_png(procedural(1, 1024, 1024)))
    nsfw.classify(img, b"")
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(8):
        nsfw.classify(img, b"")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    # Two busy threads would use ~2x the wall time in CPU time.
    assert cpu / wall < 1.3, (cpu, wall)


def test_animated_image_reports_the_highest_frame(nsfw):
    frames = [Image.fromarray(procedural(seed, 128, 128)) for seed in range(5)]
    data = _gif(frames)
    img = decode_image(data)
    c = nsfw.classify(img, data)
    assert c.details["frames"] == 1 + len(img.frames) == 5
    singles = [
        nsfw.classify(DecodedImage(rgb=f, format="GIF", width=128, height=128, mode="RGB"), b"")
        for f in [img.rgb, *img.frames]
    ]
    per_frame = [s.score("nudity") for s in singles]
    assert c.score("nudity") == pytest.approx(max(per_frame))
    assert c.details["max_frame"] == int(np.argmax(per_frame))


def test_missing_model_fails_at_load(tmp_path: Path):
    det = OpenNsfwDetector(model_path=tmp_path / "open-nsfw.onnx")
    with pytest.raises(DetectorFailed, match="missing"):
        det.load()


def test_corrupt_model_fails_at_load(tmp_path: Path):
    bad = tmp_path / "open-nsfw.onnx"
    bad.write_bytes(b"not a model" * 100)
    with pytest.raises(DetectorFailed, match="cannot load"):
        OpenNsfwDetector(model_path=bad).load()


@pytest.mark.skipif(nudenet_available(), reason="nudenet is installed here")
def test_nudenet_absent_is_a_clear_failure():
    with pytest.raises(DetectorFailed, match="AGPL"):
        NudeNetDetector().load()


@pytest.mark.skipif(not nudenet_available(), reason="optional nudenet (AGPL-3.0) not installed")
def test_nudenet_no_false_alarm(benign_images):
    det = NudeNetDetector()
    for name, img, data in benign_images[:10]:
        c = det.classify(img, data)
        assert c.score("nudity") < BENIGN_NUDITY_MAX and c.score("explicit") < BENIGN_NUDITY_MAX, (
            name
        )


def _png(rgb: np.ndarray) -> bytes:
    import io

    b = io.BytesIO()
    Image.fromarray(rgb).save(b, "PNG")
    return b.getvalue()


def _gif(frames: list[Image.Image]) -> bytes:
    import io

    b = io.BytesIO()
    frames[0].save(b, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return b.getvalue()
