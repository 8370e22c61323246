"""`/v1/check` over HTTP: sustained requests/s and p50/p99 latency under concurrent load from a second
process. The server is `amparo serve` (one process) on a fresh data directory with a 100k-entry PDQ bank;
this process is the load generator (threads with keep-alive connections).

Usage: .venv/bin/python bench/bench_api.py [--seconds 20] [--concurrency 8] [--detectors none|default]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "pdq"
AMPARO = str(ROOT / ".venv" / "bin" / "amparo")


def run(cmd: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    return subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, check=True).stdout


def measure(args: argparse.Namespace, detectors: str, workers: int) -> str:
    tmp = tempfile.mkdtemp(prefix="amparo-bench-")
    env = {**os.environ, "AMPARO_DATA_DIR": tmp, "AMPARO_DETECTORS": detectors, "OMP_NUM_THREADS": "1"}
    key = run([AMPARO, "keys", "create", "bench", "--role", "admin", "--json"], env).split('"key": "')[1].split('"')[0]
    run([AMPARO, "banks", "create", "BENCH", "--category", "csam"], env)
    rng = np.random.default_rng(1)
    hashes = "\n".join(bytes(r).hex() for r in rng.integers(0, 256, (args.bank_size, 32), dtype=np.uint8))
    run([AMPARO, "banks", "import", "BENCH", "-", "--format", "lines", "--signal-type", "pdq"], env, stdin=hashes)
    port = 18765
    server = subprocess.Popen(
        [AMPARO, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(f"{url}/ready").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        images = [p.read_bytes() for p in sorted((DATA / "bridge-mods").glob("*.jpg"))]
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()
        stop = time.time() + args.seconds

        def worker(i: int) -> None:
            nonlocal errors
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
                n = i
                while time.time() < stop:
                    img = images[n % len(images)]
                    n += 1
                    t = time.perf_counter()
                    r = c.post("/v1/check", files={"file": ("x.jpg", img)})
                    dt = time.perf_counter() - t
                    with lock:
                        if r.status_code == 200:
                            latencies.append(dt)
                        else:
                            errors += 1

        t0 = time.time()
        with cf.ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(worker, range(args.concurrency)))
        elapsed = time.time() - t0
    finally:
        server.terminate()
        server.wait(10)
    lat = sorted(latencies)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
    return (
        f"| {detectors} | {workers} | {len(lat)} | {errors} | {len(lat) / elapsed:.1f} | {p(0.5):.1f} | {p(0.99):.1f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument(
        "--configs",
        default="none:1,none:2,default:1,default:2",
        help="detectors:workers pairs to measure, comma-separated",
    )
    ap.add_argument("--bank-size", type=int, default=100_000)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "api.md"))
    args = ap.parse_args()

    rows = []
    for cfg in args.configs.split(","):
        detectors, workers = cfg.split(":")
        rows.append(measure(args, detectors, int(workers)))
    lines = [
        "# `/v1/check` over HTTP",
        "",
        f"Measured {time.strftime('%Y-%m-%d')}: `amparo serve` (SQLite, a {args.bank_size:,}-entry PDQ bank) with load "
        f"from a second process: {args.concurrency} concurrent keep-alive clients for {args.seconds:.0f} s per "
        "configuration, posting the 12 bridge-mods JPEGs (160 px to 1600 px). Each request decodes, hashes (PDQ, MD5, "
        "SHA-1, SHA-256), matches, runs the detectors where configured, evaluates the policy and commits an event "
        "before answering. Server and load generator share the machine's 2 cores.",
        "",
        "| detectors | server processes | requests | errors | requests/s | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
