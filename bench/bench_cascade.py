"""The image cascade with the real detectors, one process, one thread: per-image latency for benign
1024×1024 photos (p50/p99), the worst path (every stage forced) measured separately, each stage's
share of the time, and images/s per core for a folder scan with every detector on.

Usage: .venv/bin/python bench/bench_cascade.py [--repeat 3] [--out bench/results/cascade.md]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from amparo.domain.items import Context, Item  # noqa: E402
from amparo.service import Service  # noqa: E402
from amparo.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "pdq"


def benign_photos() -> list[bytes]:
    """1024² JPEGs (q90): the shared photos resized, scikit-image's sample photos, drawn images."""
    imgs: list[Image.Image] = []
    for p in sorted((DATA / "bridge-mods").glob("*.jpg"))[:4] + [
        DATA / "reg-test" / "pen-and-coaster.png",
        DATA / "misc-images" / "c.png",
    ]:
        imgs.append(Image.open(p).convert("RGB"))
    try:
        from skimage import data as skd

        for name in ("astronaut", "coffee", "chelsea", "rocket", "camera", "immunohistochemistry"):
            arr = getattr(skd, name)()
            imgs.append(Image.fromarray(arr).convert("RGB"))
    except ImportError:
        pass
    rng = np.random.default_rng(3)
    for _ in range(4):
        imgs.append(
            Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).resize((1024, 1024), Image.BICUBIC)
        )
    out = []
    for im in imgs:
        buf = io.BytesIO()
        im.resize((1024, 1024), Image.LANCZOS).save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def measure(
    svc: Service, blobs: list[bytes], repeat: int, worst: bool
) -> tuple[list[float], list[float], dict[str, float]]:
    if worst:
        svc.policy.document.cascade.faces_age_if_nudity_gte = 0.0  # every stage runs
    lat: list[float] = []
    cpu: list[float] = []
    stages: dict[str, float] = defaultdict(float)
    for b in blobs:  # warm-up: models loaded, caches compiled
        svc.pipeline.check(Item.from_image(b), record=False)
    for _ in range(repeat):
        for b in blobs:
            t, c = time.perf_counter(), time.thread_time()
            v = svc.pipeline.check(Item.from_image(b, Context(surface="bench")), record=True)
            lat.append((time.perf_counter() - t) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
            for s in v.stages:
                stages[s.name] += s.elapsed_ms
    stages["record (event, actions, commit)"] = sum(lat) - sum(stages.values())
    return lat, cpu, dict(stages)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "cascade.md"))
    args = ap.parse_args()
    blobs = benign_photos()
    tmp = Path(tempfile.mkdtemp(prefix="amparo-cascade-"))
    rows = []
    shares = {}
    for worst in (False, True):
        svc = Service(Settings(data_dir=tmp / ("worst" if worst else "normal"), detectors="default"))
        t0 = time.perf_counter()
        lat, cpu, stages = measure(svc, blobs, args.repeat, worst)
        wall = (time.perf_counter() - t0) * 1000
        svc.close()
        total = sum(lat)
        name = "worst path (every stage forced)" if worst else "cascade (default policy)"
        rows.append(
            f"| {name} | {len(lat)} | {statistics.median(lat):.1f} | {pct(lat, 0.99):.1f} | "
            f"{statistics.median(cpu):.1f} | {pct(cpu, 0.99):.1f} | {1000 * len(lat) / total:.1f} |"
        )
        shares[name] = {k: v / total for k, v in stages.items()}
        del wall
    # folder scan with every detector on, one worker process
    folder = tmp / "folder"
    folder.mkdir()
    for i, b in enumerate(blobs * 8):
        (folder / f"{i:03}.jpg").write_bytes(b)
    env = {**os.environ, "AMPARO_DATA_DIR": str(tmp / "scan"), "AMPARO_DETECTORS": "default"}
    amparo = str(ROOT / ".venv" / "bin" / "amparo")
    subprocess.run([amparo, "migrate"], env=env, check=True, capture_output=True)
    t = time.perf_counter()
    p = subprocess.run(
        [amparo, "scan", str(folder), "--full", "--workers", "1", "-o", os.devnull, "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    scan_s = time.perf_counter() - t
    n = len(blobs) * 8
    stage_names = sorted(
        {k for v in shares.values() for k in v}, key=lambda k: -max(v.get(k, 0) for v in shares.values())
    )
    lines = [
        "# Image cascade",
        "",
        f"Measured {time.strftime('%Y-%m-%d')}: the real detectors (open_nsfw, YuNet faces + age, provenance), "
        f"one process, one thread; {len(blobs)} benign 1024×1024 JPEG photos (shared photos resized, scikit-image "
        f"samples, drawn images) × {args.repeat}; each check records its event (SQLite). CPU = the thread's CPU "
        f"time per check (robust to other load on the machine; load average at start {os.getloadavg()[0]:.1f}).",
        "",
        "| path | images | wall p50 ms | wall p99 ms | CPU p50 ms | CPU p99 ms | images/s per core |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Share of the time per stage:",
        "",
        "| stage | " + " | ".join(shares) + " |",
        "|---|" + "---|" * len(shares),
        *[f"| {s} | " + " | ".join(f"{100 * shares[n_].get(s, 0):.1f} %" for n_ in shares) + " |" for s in stage_names],
        "",
        f"Folder scan with every detector on (`amparo scan --full --workers 1`, {n} files, process start and model "
        f"loads included): {scan_s:.1f} s, **{n / scan_s:.1f} images/s per core** (exit {p.returncode}).",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
