"""Bulk import at index speed (issue 13, item 3): `amparo banks import` of N random PDQ hashes, while
a separate `amparo serve` replica on the same database answers lookups.

Measures, in one run:
* the import's wall time and the CLI process's peak RSS (wait4);
* time from the import's start until the running replica matches the file's last hash;
* the replica's GET /m/raw_lookup latency (p50/p99), idle and during the import;
* the previous import path in the same run (`banks_repo.add_entries` over the whole parsed file in
  one transaction, as `import_text` did before), on --baseline-n hashes (default min(N, 100k)).

    python bench/bench_bulk_import.py --n 1000000 --db postgresql
    python bench/bench_bulk_import.py --n 200000 --db sqlite

PostgreSQL: a fresh schema in $AMPARO_BENCH_PG (default the local `test` database), dropped after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
PG = os.environ.get("AMPARO_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRETS = {
    "AMPARO_MASTER_KEY": "11" * 32,
    "AMPARO_WATERMARK_KEY": "22" * 32,
    "AMPARO_SESSION_SECRET": "s" * 32,
    "AMPARO_INTEGRITY_KEY": "33" * 32,
}


def env_for(url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPARO_")}
    env.update(SECRETS)
    env.update(
        AMPARO_ENVIRONMENT="test",
        AMPARO_DATABASE_URL=url,
        AMPARO_DATA_DIR=str(data_dir),
        AMPARO_DETECTORS="none",
        AMPARO_RATE_LIMIT_PER_KEY="0",
        AMPARO_RATE_LIMIT_PER_ADDRESS="0",
        PYTHONPATH=str(REPO / "src"),
        OMP_NUM_THREADS="1",
    )
    return env


def cli(env: dict[str, str], *args: str) -> Any:
    out = subprocess.run([sys.executable, "-m", "amparo.cli.main", *args], env=env, capture_output=True, check=True)
    return json.loads(out.stdout) if "--json" in args else out.stdout


def peak_rss_of(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    t = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []
    to = threading.Thread(target=lambda: out_chunks.append(p.stdout.read()))  # type: ignore[union-attr]
    te = threading.Thread(target=lambda: err_chunks.append(p.stderr.read()))  # type: ignore[union-attr]
    to.start()
    te.start()
    _, status, usage = os.wait4(p.pid, 0)
    to.join()
    te.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(b"".join(err_chunks).decode()[-2000:])
    return wall, usage.ru_maxrss / 1024, b"".join(out_chunks).decode()


class Lookups(threading.Thread):
    """One client thread: GET /m/raw_lookup of random hashes, recording (t, latency)."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key = url, key
        self.samples: list[tuple[float, float]] = []
        self.errors: list[float] = []
        self.stop = threading.Event()
        self.rng = np.random.default_rng(5)

    def run(self) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {self.key}"}, timeout=30) as c:
            while not self.stop.is_set():
                h = self.rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()
                t = time.perf_counter()
                try:
                    r = c.get(self.url + "/m/raw_lookup", params={"signal_type": "pdq", "signal": h})
                    r.raise_for_status()
                except httpx.HTTPError:  # counted, with the time it took (a timeout is 30 s)
                    self.errors.append(t)
                self.samples.append((t, time.perf_counter() - t))
                time.sleep(0.02)

    def window(self, t0: float, t1: float) -> dict[str, float]:
        lat = sorted(d for t, d in self.samples if t0 <= t < t1)
        if not lat:
            return {"n": 0}
        return {
            "n": len(lat),
            "errors": sum(1 for t in self.errors if t0 <= t < t1),
            "max_ms": round(1000 * lat[-1], 1),
            "p50_ms": round(1000 * statistics.median(lat), 2),
            "p99_ms": round(1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))], 2),
        }


def old_path(url: str, data_dir: Path, lines: list[str]) -> float:
    """The import path before this change: parse all, then banks_repo.add_entries in one go."""
    sys.path.insert(0, str(REPO / "src"))
    os.environ.update(SECRETS)
    from amparo.banks.formats import parse_entries
    from amparo.signals.registry import default_signal_registry
    from amparo.store import banks_repo
    from amparo.store.database import Database

    db = Database.sealed(url, data_dir / "keys")
    with db.session() as s:
        bank_id = banks_repo.create_bank(s, name="OLD", category="csam").id
    t = time.perf_counter()
    parsed = parse_entries("".join(lines), fmt="pytx", registry=default_signal_registry())
    with db.session() as s:
        banks_repo.add_entries(s, bank_id=bank_id, entries=parsed.entries)
    wall = time.perf_counter() - t
    db.dispose()
    return wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--baseline-n", type=int, default=None)
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="amparo-bulk-"))
    schema = "bench_" + uuid.uuid4().hex[:10]
    if args.db == "postgresql":
        admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{PG}?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{work / 'amparo.db'}"
    result: dict[str, Any] = {"n": args.n, "db": args.db, "load_before": os.getloadavg()}
    replica = None
    try:
        rng = np.random.default_rng(1)
        hashes = rng.integers(0, 256, (args.n, 32), dtype=np.uint8)
        src = work / "hashes.txt"
        with src.open("w") as f:
            for start in range(0, args.n, 100_000):
                f.write("".join(f"pdq {h.tobytes().hex()}\n" for h in hashes[start : start + 100_000]))
        last = hashes[-1].tobytes().hex()
        del hashes
        cli_env = env_for(url, work / "cli")
        key = cli(cli_env, "keys", "create", "bench", "--role", "admin", "--json")["key"]
        cli(cli_env, "banks", "create", "NEW", "--category", "csam")
        (work / "replica").mkdir()
        shutil.copytree(work / "cli" / "keys", work / "replica" / "keys")
        port = 18000 + os.getpid() % 1000
        replica_url = f"http://127.0.0.1:{port}"
        log = (work / "replica.log").open("wb")
        replica = subprocess.Popen(
            [sys.executable, "-m", "amparo.cli.main", "serve", "--port", str(port)],
            env=env_for(url, work / "replica"),
            stdout=log,
            stderr=log,
        )
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(replica_url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise RuntimeError("replica did not start")
            time.sleep(0.2)
        lookups = Lookups(replica_url, key)
        lookups.start()
        time.sleep(2)  # warm-up, not counted
        t_idle = time.perf_counter()
        # the CLI's own start-up (imports, settings, migrations check) for reference
        start_wall, start_rss, _ = peak_rss_of(
            [sys.executable, "-m", "amparo.cli.main", "banks", "list", "--json"], cli_env
        )
        result["cli_banks_list"] = {"wall_s": round(start_wall, 1), "peak_rss_mib": round(start_rss)}
        time.sleep(args.idle_seconds)
        # the import, through the real CLI
        t0 = time.perf_counter()
        result["load_at_import"] = os.getloadavg()
        wall, rss, out = peak_rss_of(
            [sys.executable, "-m", "amparo.cli.main", "banks", "import", "NEW", str(src), "--format", "pytx", "--json"],
            cli_env,
        )
        result["import"] = {"wall_s": round(wall, 1), "peak_rss_mib": round(rss), "out": json.loads(out)}
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            while True:
                r = c.get(replica_url + "/m/raw_lookup", params={"signal_type": "pdq", "signal": last})
                if r.json()["matches"]:
                    break
                time.sleep(0.05)
        t2 = time.perf_counter()
        result["searchable_on_replica_s"] = round(t2 - t0, 1)
        time.sleep(2)
        lookups.stop.set()
        lookups.join()
        result["lookups_idle"] = lookups.window(t_idle, t0)
        result["lookups_during_import"] = lookups.window(t0, t2)
        # the previous path, same run
        bn = args.baseline_n or min(args.n, 100_000)
        with src.open() as f:
            lines = [next(f) for _ in range(bn)]
        old = old_path(url, work / "cli", lines)
        result["old_path"] = {"n": bn, "wall_s": round(old, 1), "rows_per_s": round(bn / old)}
        result["new_path_rows_per_s"] = round(args.n / wall)
        result["rate_ratio_new_over_old"] = round((args.n / wall) / (bn / old), 1)
        result["load_after"] = os.getloadavg()
    finally:
        if replica is not None:
            replica.terminate()
            replica.wait(30)
        if args.db == "postgresql":
            with admin.connect() as c:
                c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
