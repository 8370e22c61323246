"""scan-dataset throughput: images/s per core for 256-px training images, in one run:

- plain pdqhash: file bytes -> full RGB decode -> pdqhash (the hash of record), one core, in-process;
- `amparo scan` (the local process-pool scanner + parent-side matching), via the CLI;
- `amparo scan-dataset` on a local Ray, 1 and 2 workers: end to end (Ray start, actor start, scan,
  removal list) and the actors' own in-shard time (what a long run converges to).

Images: the benign photos of ../shared/data/pdq, cut into many different 256x256 crops (flips,
offsets, scales), JPEG q90, written as img2dataset webdataset tars and as a plain folder. The banks
hold --bank random PDQ hashes plus planted entries for a few of the images (checked afterwards).

    PYTHONPATH=src nice -n 10 python bench/bench_scan_dataset.py --images 3000 --shard 250
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "pdq"


def training_images(n: int, seed: int = 5) -> list[bytes]:
    sources = []
    for p in sorted(SHARED.rglob("*")):
        if p.suffix.lower() in (".jpg", ".jpeg", ".png"):
            try:
                im = Image.open(p).convert("RGB")
            except Exception:
                continue
            if min(im.size) >= 200:
                sources.append(im)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        im = sources[i % len(sources)]
        w, h = im.size
        side = int(min(w, h) * rng.uniform(0.45, 1.0))
        x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        crop = im.crop((x, y, x + side, y + side)).resize((256, 256), Image.Resampling.BICUBIC)
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        buf = io.BytesIO()
        crop.save(buf, format="JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def write_dataset(root: Path, images: list[bytes], shard: int) -> None:
    (root / "tars").mkdir(parents=True)
    (root / "folder").mkdir(parents=True)
    for s in range(0, len(images), shard):
        with tarfile.open(root / "tars" / f"{s // shard:05d}.tar", "w") as tar:
            for i in range(s, min(s + shard, len(images))):
                key = f"{i:09d}"
                meta = json.dumps({"key": key, "url": f"https://images.example.org/{key}.jpg"}).encode()
                for ext, payload in (("jpg", images[i]), ("json", meta)):
                    info = tarfile.TarInfo(f"{key}.{ext}")
                    info.size = len(payload)
                    tar.addfile(info, io.BytesIO(payload))
    for i, data in enumerate(images):
        (root / "folder" / f"{i:09d}.jpg").write_bytes(data)


def plain_pdqhash(images: list[bytes]) -> float:
    from amparo.signals.hashes.pdq import pdq_of_bytes

    t = time.process_time()
    for data in images:
        pdq_of_bytes(data)
        hashlib.md5(data).hexdigest()
    return len(images) / (time.process_time() - t)


def local_scanner_cpu(folder: Path) -> float:
    """What `amparo scan` spends per file on one core: its worker's hash_file + its parent's lookup."""
    from amparo.batch.scan import hash_file
    from amparo.domain.signals import Signal
    from amparo.service import Service
    from amparo.settings import Settings

    svc = Service(Settings(), load_detectors=False)
    files = sorted(str(p) for p in folder.iterdir())
    t = time.process_time()
    for f in files:
        sig = hash_file(f).signals or {}
        svc.matcher.lookup(
            [Signal("pdq", sig["pdq"], sig["pdq_quality"])] + [Signal(k, sig[k]) for k in ("md5", "sha1", "sha256")]
        )
    rate = len(files) / (time.process_time() - t)
    svc.close()
    return rate


def bank(n_random: int, planted: list[bytes]) -> None:
    from amparo.banks import management
    from amparo.banks.management import Acting
    from amparo.service import Service
    from amparo.settings import Settings
    from amparo.signals.hashes.pdq import pdq_of_bytes
    from amparo.store.banks_repo import NewEntry

    svc = Service(Settings())
    rng = np.random.default_rng(1)
    who = Acting(svc.audit, "bench", "admin")
    with svc.db.session() as s:
        management.create_bank(s, who, name="BENCH", category="csam")
        entries = [NewEntry("pdq", rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()) for _ in range(n_random)]
        entries += [NewEntry("pdq", pdq_of_bytes(d)[0]) for d in planted]
        management.add_entries(s, who, bank="BENCH", entries=entries, via="bench")
    svc.matcher.refresh()
    svc.close()


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


TREE_CPU = r"""
def tree_cpu(root):
    # CPU seconds of a process tree: each live process's own time plus that of its reaped children.
    import os
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            procs[int(pid)] = (int(f[1]), sum(int(x) for x in f[11:15]))
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += procs.get(p, (0, 0))[1]
        todo += [c for c, (pp, _) in procs.items() if pp == p]
    return total / tick
"""


def local_scan(folder: Path, workers: int) -> dict[str, float]:
    c0 = children_cpu()
    t = time.monotonic()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "amparo.cli.main",
            "scan",
            str(folder),
            "-o",
            os.devnull,
            "--workers",
            str(workers),
            "--json",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    wall = time.monotonic() - t
    summary = json.loads([x for x in r.stderr.splitlines() if x.startswith("{")][-1])
    return {
        "files_per_second": summary["files_per_second"],
        "wall": round(wall, 2),
        "total_cpu": round(children_cpu() - c0, 2),
        "matched": summary["matched"],
    }


def dataset_scan(tars: Path, out: Path, workers: int) -> dict[str, float]:
    code = (
        TREE_CPU + "import json,os,sys,ray\n"
        f"ray.init(num_cpus={workers}, include_dashboard=False, log_to_driver=False)\n"
        "from amparo.batch.dataset_run import RunConfig, run_scan\n"
        "from amparo.batch.dataset_scan import ScanOptions, read_rows\n"
        f"s = run_scan([{str(tars)!r}], ScanOptions(out_dir={str(out)!r}), RunConfig(workers={workers}))\n"
        "s['total_cpu'] = tree_cpu(os.getpid())\n"
        "print('SUMMARY' + json.dumps(s))\n"
    )
    c0 = children_cpu()
    t = time.monotonic()
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    wall = time.monotonic() - t
    line = [x for x in r.stdout.splitlines() if x.startswith("SUMMARY")]
    if not line:
        raise RuntimeError(r.stderr[-3000:])
    c_driver = children_cpu() - c0
    out = json.loads(line[-1][7:])
    # tree_cpu ran inside the driver, before Ray shut down: the driver, GCS, raylet and every worker.
    return {**out, "wall": wall, "total_cpu": round(out["total_cpu"], 2), "driver_rusage": round(c_driver, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=3000)
    ap.add_argument("--shard", type=int, default=250)
    ap.add_argument("--bank", type=int, default=100_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-scan-dataset-"))
    os.environ.update(
        AMPARO_ENVIRONMENT="test",
        AMPARO_DATA_DIR=str(tmp / "data"),
        AMPARO_DETECTORS="none",
        AMPARO_MASTER_KEY="11" * 32,
        AMPARO_WATERMARK_KEY="22" * 32,
        AMPARO_SESSION_SECRET="s" * 32,
        PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    images = training_images(args.images)
    write_dataset(tmp, images, args.shard)
    planted = images[:: max(1, len(images) // 5)][:5]
    bank(args.bank, planted)
    load0 = os.getloadavg()[0]
    res: dict[str, object] = {
        "images": len(images),
        "shard": args.shard,
        "bank_pdq": args.bank + len(planted),
        "mean_jpeg_bytes": int(np.mean([len(d) for d in images])),
    }
    res["pdqhash_per_core"] = round(plain_pdqhash(images), 1)
    res["local_scanner_per_core"] = round(local_scanner_cpu(tmp / "folder"), 1)
    for w in (1, 2):
        res[f"scan_w{w}"] = local_scan(tmp / "folder", w)
        d = dataset_scan(tmp / "tars", tmp / f"out{w}", w)
        m = json.loads((tmp / f"out{w}" / "manifest.json").read_text())
        actor_seconds = sum(x["seconds"] for x in m["shards"].values())
        actor_cpu = sum(x["cpu_seconds"] for x in m["shards"].values())
        res[f"dataset_w{w}"] = {
            **{
                k: d[k] for k in ("samples", "matched", "removal_rows", "scan_seconds", "timings", "samples_per_second")
            },
            "total_cpu": d["total_cpu"],
            "driver_rusage": d["driver_rusage"],
            "wall": round(d["wall"], 2),
            "actor_seconds": round(actor_seconds, 2),
            "actor_cpu_seconds": round(actor_cpu, 2),
            "per_core_in_actors_wall": round(d["samples"] / actor_seconds, 1),
            "per_core_in_actors_cpu": round(d["samples"] / actor_cpu, 1),
        }
    res["pdqhash_per_core_after"] = round(plain_pdqhash(images), 1)
    res["loadavg_start_end"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
