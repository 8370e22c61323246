"""Exchange sync benchmark: sync N records into a live index while lookups run.

    .venv/bin/python bench/bench_exchange_sync.py --records 1000000      # the issue's size
    .venv/bin/python bench/bench_exchange_sync.py --records 100000       # a quicker run

Setup: one data directory (SQLite by default, `--db-url` for PostgreSQL), a bank with `--base`
random PDQ hashes, and an exchange of the in-process type `bench-generator` (registered through
the exchange registry like a plugin) whose pages hold `--page` seeded random PDQ records each.

The serving process (this one) owns the index: a `Matcher` with its background refresh thread
(every 0.5 s, as `amparo serve`), and one lookup thread issuing single PDQ lookups (the matcher's
`lookup`, as `/v1/lookup` does: index search + the entries' bank rows), half of them planted
hashes that match, half random. "Idle" is `--idle-s` seconds of lookups with no sync before it
and as many after it (the load of a shared machine drifts). "During" is the sync, run in a second
process (as `amparo exchanges sync` or another replica would) through the real engine:
validation of every record, bank entries, index and bank change feeds, audit records, cursor per
page. Lookups continue throughout; the serving process applies
the new index changes as they commit.

Peer in the same run (unless `--no-hma`): python-threatexchange's `PDQIndex.build` over the
same N new hashes plus the base, which is what HMA's indexer does after a fetch (a full rebuild;
its fetcher's own database writes are not counted, so the peer is flattered).

Reported: records/s of the sync, lookup p50/p99 idle vs during the sync (goal: p99 within 2×),
the number of lookups in each phase, the time until the last synced hash matched in the serving
process, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def hashes(seed: int, n: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(n):
        yield f"{rng.getrandbits(256):064x}"


class GeneratorClient:
    """N seeded random PDQ records in pages; the cursor is the number of records already given."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.n, self.page, self.seed = int(config["records"]), int(config["page"]), int(config["seed"])

    def fetch(self, cursor: Any) -> Iterator[Any]:
        from amparo.banks.exchanges.base import Page, Record

        done = int(cursor or 0)
        gen = hashes(self.seed, self.n)
        for _ in range(done):
            next(gen)
        while done < self.n:
            k = min(self.page, self.n - done)
            recs = [Record("add", "pdq", next(gen)) for _ in range(k)]
            done += k
            yield Page(recs, done)

    def submit(self, records: list[Any]) -> int:
        return 0

    def feedback(self, items: list[Any]) -> int:
        return 0


def registry() -> Any:
    from amparo.banks.exchanges.base import ExchangeRegistry, ExchangeType

    reg = ExchangeRegistry()
    reg.register(
        ExchangeType("bench-generator", "seeded random PDQ records", lambda c, s: GeneratorClient(c), ("records",))
    )
    return reg


def child_sync() -> None:
    """The syncing process: the real engine, another process than the one serving lookups."""
    from amparo.banks.exchanges.sync import SyncEngine
    from amparo.service import Service
    from amparo.settings import Settings

    svc = Service(Settings(), load_detectors=False)
    t0 = time.perf_counter()
    r = SyncEngine(svc, registry=registry()).sync("bench")
    out = r.as_dict()
    out["wall_s"] = time.perf_counter() - t0
    print("RESULT=" + json.dumps(out), flush=True)
    svc.close()


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--base", type=int, default=100_000, help="hashes in the index before the sync")
    ap.add_argument("--page", type=int, default=5_000)
    ap.add_argument("--idle-s", type=float, default=15.0)
    ap.add_argument("--db-url", default=None)
    ap.add_argument("--no-hma", action="store_true")
    ap.add_argument("--child-nice", type=int, default=0, help="run the syncing process at this nice level")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_sync()
        return

    tmp = Path(tempfile.mkdtemp(prefix="amparo-bench-exchange-"))
    env = {
        "AMPARO_DATA_DIR": str(tmp / "data"),
        "AMPARO_DETECTORS": "none",
        "AMPARO_INDEX_REFRESH_SECONDS": "0.5",
        "AMPARO_EXCHANGE_TICK_SECONDS": "0",
    }
    if args.db_url:
        env["AMPARO_DATABASE_URL"] = args.db_url
    os.environ.update(env)
    from amparo.banks import management as bm
    from amparo.banks.exchanges import operations
    from amparo.domain.signals import Signal
    from amparo.service import Service
    from amparo.settings import Settings
    from amparo.store.banks_repo import NewEntry

    svc = Service(Settings(), load_detectors=False)
    who = bm.Acting(svc.audit, "bench", "admin")
    base = list(hashes(7, args.base))
    t0 = time.perf_counter()
    with svc.db.session() as s:
        bm.create_bank(s, who, name="base", category="csam")
    for i in range(0, len(base), 20_000):
        with svc.db.session() as s:
            bm.bulk_add(s, who, bank="base", entries=[NewEntry("pdq", x) for x in base[i : i + 20_000]])
    with svc.db.session() as s:
        operations.add_exchange(
            s,
            who,
            name="bench",
            kind="bench-generator",
            bank="synced",
            category="csam",
            interval_s=0,
            config={"records": args.records, "page": args.page, "seed": 11},
            registry=registry(),
        )
    svc.matcher.refresh()
    print(f"base of {args.base} hashes ready in {time.perf_counter() - t0:.1f} s", flush=True)
    svc.matcher.start_background_refresh(0.5)

    stop = threading.Event()
    lat: list[tuple[float, float]] = []  # (wall time, ms)
    planted = base[:: max(1, len(base) // 1000)]

    def lookups() -> None:
        rng = random.Random(3)
        i = 0
        while not stop.is_set():
            h = planted[i % len(planted)] if i % 2 == 0 else f"{rng.getrandbits(256):064x}"
            t = time.perf_counter()
            res = svc.matcher.lookup([Signal("pdq", h, 100)])
            lat.append((t, (time.perf_counter() - t) * 1000))
            if i % 2 == 0:
                assert res.matches, "a planted hash stopped matching"
            i += 1

    th = threading.Thread(target=lookups, daemon=True)
    t_idle = time.perf_counter()
    th.start()
    time.sleep(args.idle_s)
    t_sync = time.perf_counter()
    p = subprocess.run(
        ["nice", "-n", str(args.child_nice), sys.executable, __file__, "--child"],
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=24 * 3600,
    )
    t_done = time.perf_counter()
    line = [x for x in p.stdout.splitlines() if x.startswith("RESULT=")]
    if not line:
        raise SystemExit(p.stdout + p.stderr)
    result = json.loads(line[-1][7:])
    *_, last = hashes(11, args.records)
    waited = 0.0
    while not svc.matcher.lookup([Signal("pdq", last, 100)]).matches:
        time.sleep(0.05)
        waited += 0.05
    t_after = time.perf_counter()
    time.sleep(args.idle_s)  # idle again after the sync: the load on a shared machine drifts
    stop.set()
    th.join()
    t_end = time.perf_counter()
    idle = [ms for t, ms in lat if t_idle <= t < t_sync or t_after <= t < t_end]
    during = [ms for t, ms in lat if t_sync <= t < t_done]
    out: dict[str, Any] = {
        "records": args.records,
        "base": args.base,
        "page": args.page,
        "database": "postgresql" if args.db_url else "sqlite",
        "child_nice": args.child_nice,
        "sync": {k: result[k] for k in ("status", "pages", "added", "skipped", "seconds")},
        "records_per_s": round(args.records / result["seconds"], 1),
        "last_hash_matched_after_sync_s": round(waited, 2),
        "lookups_idle": {"n": len(idle), "p50_ms": round(pct(idle, 0.5), 3), "p99_ms": round(pct(idle, 0.99), 3)},
        "lookups_during": {
            "n": len(during),
            "p50_ms": round(pct(during, 0.5), 3),
            "p99_ms": round(pct(during, 0.99), 3),
        },
        "loadavg": os.getloadavg(),
    }
    out["p99_ratio_during_vs_idle"] = round(out["lookups_during"]["p99_ms"] / out["lookups_idle"]["p99_ms"], 2)
    svc.close()
    if not args.no_hma:
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex

        entries = [(h, i) for i, h in enumerate(base)] + [(h, i) for i, h in enumerate(hashes(11, args.records))]
        t = time.perf_counter()
        PDQIndex.build(entries)
        out["hma_full_rebuild_s"] = round(time.perf_counter() - t, 2)
    print(json.dumps(out, indent=1))
    _ = statistics  # noqa


if __name__ == "__main__":
    main()
