"""PDQ index benchmark: Amparo's PDQIndex against python-threatexchange's PDQIndex (HMA's index).

    .venv/bin/python bench/bench_matching.py --size 1m      # ~1 minute
    .venv/bin/python bench/bench_matching.py --size 10m     # ~5 minutes, HMA peaks near 9 GB

Data (numpy, seeded): N uniformly random 256-bit hashes, then for each of Q queries a planted
near-duplicate at distance i mod 32 (0..31) and a decoy at 32 + i mod 9 (32..40). Each index holds
the N + 2Q hashes. Every index is built and queried in its own fresh process, one after another,
one thread each (OMP_NUM_THREADS=1, faiss.omp_set_num_threads(1)). Query processes start with the
index file evicted from the page cache (posix_fadvise DONTNEED), so "cold load" includes disk reads.
Queries are issued one at a time through each index's own lookup call (HMA: `query(hex)`, as its
/m/lookup does; Amparo: `search(bytes, 31)`). RSS is VmRSS from /proc/self/status.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
ADD_LIVE = 100_000
PASSES = 3


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def evict(path: Path) -> None:
    """Drop a file's pages from the page cache (clean pages; no root needed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------ data


def flip(rng: np.random.Generator, row: np.ndarray, k: int) -> np.ndarray:
    bits = np.unpackbits(row).copy()
    bits[rng.choice(256, size=k, replace=False)] ^= 1
    return np.packbits(bits)


def make_data(work: Path, n: int, q: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    queries = rng.integers(0, 256, (q, 32), dtype=np.uint8)
    planted = np.stack([flip(rng, queries[i], i % 32) for i in range(q)])
    decoys = np.stack([flip(rng, queries[i], 32 + i % 9) for i in range(q)])
    np.save(work / "hashes.npy", np.concatenate([base, planted, decoys]))  # ids 0..N+2Q-1
    np.save(work / "queries.npy", queries)
    np.save(work / "added.npy", rng.integers(0, 256, (ADD_LIVE, 32), dtype=np.uint8))


# ------------------------------------------------------------------------------ children


def score(results: list[set[int]], n: int, q: int) -> dict[str, float]:
    found = sum(1 for i, ids in enumerate(results) if n + i in ids)
    decoys = sum(1 for i, ids in enumerate(results) if n + q + i in ids)
    other = sum(len(ids - {n + i, n + q + i}) for i, ids in enumerate(results))
    return {"recall": found / q, "decoys_returned": decoys, "unexpected": other}


def time_queries(lookup, queries: list) -> dict[str, float]:  # type: ignore[no-untyped-def]
    lat: list[float] = []
    qps = []
    for _ in range(PASSES):
        t_pass = time.perf_counter()
        for query in queries:
            t0 = time.perf_counter()
            lookup(query)
            lat.append(time.perf_counter() - t0)
        qps.append(len(queries) / (time.perf_counter() - t_pass))
    lat.sort()
    return {
        "qps": statistics.median(qps),
        "p50_ms": lat[len(lat) // 2] * 1e3,
        "p99_ms": lat[int(len(lat) * 0.99)] * 1e3,
    }


def child_ours_build(work: Path) -> dict[str, float]:
    from amparo.matching.pdq_index import PDQIndex

    hashes = np.load(work / "hashes.npy", mmap_mode="r")
    rss0 = rss_mib()
    t0 = time.perf_counter()
    index = PDQIndex.build(work / "ours", np.arange(hashes.shape[0]), np.asarray(hashes))
    build_s = time.perf_counter() - t0
    index.close()
    size = sum(p.stat().st_size for p in (work / "ours").iterdir())
    return {
        "build_s": build_s,
        "file_mib": size / 2**20,
        "build_peak_rss_mib": peak_rss_mib(),
        "rss_before_mib": rss0,
    }


def child_ours_query(work: Path, n: int, q: int, compact: bool) -> dict[str, float]:
    for p in (work / "ours").iterdir():
        evict(p)
    queries = [row.tobytes() for row in np.load(work / "queries.npy")]
    added = np.load(work / "added.npy")
    t_import = time.perf_counter()
    from amparo.matching.pdq_index import PDQIndex

    import_s = time.perf_counter() - t_import
    rss0 = rss_mib()
    t0 = time.perf_counter()
    index = PDQIndex.open(work / "ours")
    first = index.search(queries[0], 31)
    cold_s = time.perf_counter() - t0
    assert first is not None
    results = [{i for i, _ in index.search(query, 31)} for query in queries]
    out = {"import_s": import_s, "cold_load_s": cold_s, **score(results, n, q)}
    out.update(time_queries(lambda query: index.search(query, 31), queries))
    out["rss_mib"] = rss_mib()
    out["rss_delta_mib"] = out["rss_mib"] - rss0
    # add 100k to the live index: until the last one is searchable
    new_ids = np.arange(n + 2 * q, n + 2 * q + ADD_LIVE)
    t0 = time.perf_counter()
    index.add_many(new_ids, added)
    hit = index.search(added[-1].tobytes(), 0)
    out["add_100k_s"] = time.perf_counter() - t0
    assert hit == [(int(new_ids[-1]), 0)], hit
    after = time_queries(lambda query: index.search(query, 31), queries)
    out["qps_after_add"] = after["qps"]
    t0 = time.perf_counter()
    index.save(compact=False)
    out["save_100k_s"] = time.perf_counter() - t0
    if compact:
        t0 = time.perf_counter()
        index.compact()
        out["compact_s"] = time.perf_counter() - t0
    out["rss_end_mib"] = rss_mib()
    out["peak_rss_mib"] = peak_rss_mib()
    index.close()
    return out


def child_hma_build(work: Path) -> dict[str, float]:
    import faiss
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    faiss.omp_set_num_threads(1)
    hashes = np.load(work / "hashes.npy")
    text = hashes.tobytes().hex()
    del hashes
    entries = [(text[i : i + 64], i // 64) for i in range(0, len(text), 64)]
    del text
    rss0 = rss_mib()
    t0 = time.perf_counter()
    index = PDQIndex.build(entries)
    build_s = time.perf_counter() - t0
    del entries
    t0 = time.perf_counter()
    with open(work / "hma.pickle", "wb") as f:
        index.serialize(f)
    dump_s = time.perf_counter() - t0
    return {
        "build_s": build_s,
        "dump_s": dump_s,
        "file_mib": (work / "hma.pickle").stat().st_size / 2**20,
        "build_peak_rss_mib": peak_rss_mib(),
        "rss_before_mib": rss0,
    }


def child_hma_query(work: Path, n: int, q: int) -> dict[str, float]:
    evict(work / "hma.pickle")
    queries = [row.tobytes().hex() for row in np.load(work / "queries.npy")]
    added = [row.tobytes().hex() for row in np.load(work / "added.npy")]
    t_import = time.perf_counter()
    import faiss
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    faiss.omp_set_num_threads(1)
    import_s = time.perf_counter() - t_import
    rss0 = rss_mib()
    t0 = time.perf_counter()
    with open(work / "hma.pickle", "rb") as f:
        index: PDQIndex[int] = PDQIndex.deserialize(f)
    first = index.query(queries[0])
    cold_s = time.perf_counter() - t0
    assert first is not None
    results = [{m.metadata for m in index.query(query)} for query in queries]
    out = {"import_s": import_s, "cold_load_s": cold_s, **score(results, n, q)}
    out.update(time_queries(index.query, queries))
    out["rss_mib"] = rss_mib()
    out["rss_delta_mib"] = out["rss_mib"] - rss0
    start = n + 2 * q
    t0 = time.perf_counter()
    index.add_all((h, start + i) for i, h in enumerate(added))
    hit = index.query(added[-1])
    out["add_100k_s"] = time.perf_counter() - t0
    assert any(m.metadata == start + ADD_LIVE - 1 for m in hit)
    out["qps_after_add"] = time_queries(index.query, queries)["qps"]
    out["rss_end_mib"] = rss_mib()
    out["peak_rss_mib"] = peak_rss_mib()
    return out


# ------------------------------------------------------------------------------ driver


def run_child(kind: str, work: Path, n: int, q: int, extra: list[str]) -> dict[str, float]:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--work",
        str(work),
        "--n",
        str(n),
        "--q",
        str(q),
        *extra,
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{kind} failed")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"{kind}: {time.perf_counter() - t0:.1f} s  {json.dumps(result)}",
        file=sys.stderr,
        flush=True,
    )
    return result


def fmt(v: float) -> str:
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}"
    return f"{int(v):,}"


def table(n: int, q: int, ours: dict, hma: dict) -> str:  # type: ignore[type-arg]
    rows = [
        ("recall of planted (d 0..31)", "recall", None),
        ("decoys returned (d 32..40)", "decoys_returned", None),
        ("other hits", "unexpected", None),
        ("single-query lookups/s", "qps", "higher"),
        ("p50 latency ms", "p50_ms", "lower"),
        ("p99 latency ms", "p99_ms", "lower"),
        ("cold load s (open file -> first answer)", "cold_load_s", "lower"),
        ("import s (not in cold load)", "import_s", "lower"),
        ("RSS MiB after queries (process)", "rss_mib", "lower"),
        ("RSS MiB of the index (delta over imports)", "rss_delta_mib", "lower"),
        ("add 100k live s (until searchable)", "add_100k_s", "lower"),
        ("lookups/s after the 100k add", "qps_after_add", "higher"),
        ("build s", "build_s", "lower"),
        ("build peak RSS MiB", "build_peak_rss_mib", "lower"),
        ("file MiB", "file_mib", "lower"),
    ]
    out = [
        f"N = {n:,} random + {2 * q:,} planted/decoys, {q:,} queries",
        "",
        "| measure | Amparo PDQIndex | HMA PDQIndex (pytx) | Amparo advantage (>1: better) |",
        "|---|---|---|---|",
    ]
    for label, key, better in rows:
        a, h = ours.get(key), hma.get(key)
        ratio = ""
        if better and a and h:
            ratio = f"{a / h if better == 'higher' else h / a:.1f}x"
        cells = [fmt(v) if v is not None else "-" for v in (a, h)]
        out.append(f"| {label} | {cells[0]} | {cells[1]} | {ratio} |")
    extra = []
    if "save_100k_s" in ours:
        extra.append(
            f"Amparo save() of the 100k adds (log append + fsync): {ours['save_100k_s']:.2f} s"
        )
    if "compact_s" in ours:
        extra.append(
            f"Amparo compaction into a new base: {ours['compact_s']:.1f} s,"
            f" process peak RSS {ours['peak_rss_mib']:,.0f} MiB"
        )
    if "dump_s" in hma:
        extra.append(f"HMA pickle dump {hma['dump_s']:.1f} s")
    return "\n".join(out + [""] + [f"- {e}" for e in extra])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size", choices=sorted(SIZES), default="1m")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, help="data directory (default: a temporary one)")
    ap.add_argument("--skip-hma", action="store_true")
    ap.add_argument("--compact", action="store_true", help="also time a compaction (Amparo)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--q", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        fn = {
            "ours-build": lambda: child_ours_build(args.work),
            "ours-query": lambda: child_ours_query(args.work, args.n, args.q, args.compact),
            "hma-build": lambda: child_hma_build(args.work),
            "hma-query": lambda: child_hma_query(args.work, args.n, args.q),
        }[args.child]
        print(json.dumps(fn()))
        return

    n, q = SIZES[args.size], args.queries
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        make_data(work, n, q, args.seed)
        print(f"data: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        extra = ["--compact"] if args.compact else []
        ours = run_child("ours-build", work, n, q, [])
        ours.update(run_child("ours-query", work, n, q, extra))
        hma: dict[str, float] = {}
        if not args.skip_hma:
            hma = run_child("hma-build", work, n, q, [])
            hma.update(run_child("hma-query", work, n, q, []))
    print(table(n, q, ours, hma))
    print(json.dumps({"n": n, "queries": q, "amparo": ours, "hma": hma}))


if __name__ == "__main__":
    main()
