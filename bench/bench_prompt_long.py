"""Request gate speed: short prompts and 100,000-character texts, this tree against another.

    python bench/bench_prompt_long.py [--baseline /work/main/src] [--repeat 5]
    python bench/bench_prompt_long.py --alternate 3 --repeat 9   # the long text only, trees in turn

Each tree is timed in its own process, one thread, on the same inputs: the shipped test
split (prompts under 500 characters, one at a time: p50 / p99; and batched: prompts/s)
and a 100,000-character text of COCO captions (public; see /work/data-public/prompts)
with one request in the middle. CPU time (process_time) is reported next to wall time
because the machine may be shared: CPU time is what the gate itself costs.
A gate that refuses texts over its own limit (the baseline, 4,000 characters) is timed
on the longest text it accepts and marked so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

HERE = Path(__file__).resolve()
CAPTIONS = Path(os.environ.get("AMPARO_PUBLIC_PROMPTS", "/work/data-public/prompts")) / "coco_val2017.jsonl"


def _long_text(n: int) -> str:
    rows = [json.loads(line)["text"] for line in CAPTIONS.read_text("utf-8").splitlines()[:20000]]
    text = " ".join(rows)[:n]
    half = n // 2
    return (text[:half] + " nude image of a 12 year old. " + text[half:])[:n]


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def child(repeat: int) -> dict[str, object]:
    from amparo.signals.classifiers.prompt.dataset import load_dataset
    from amparo.signals.classifiers.prompt.gate import PromptGate

    gate = PromptGate.load(cache_size=0, warm=True)
    texts = [r.text for r in load_dataset(["test"]) if len(r.text) < 500]
    gate.analyse_many(texts[:50])
    lat: list[float] = []
    for _ in range(repeat):
        for t in texts:
            s = time.perf_counter()
            gate.analyse(t)
            lat.append(time.perf_counter() - s)
    s = time.perf_counter()
    for _ in range(repeat):
        gate.analyse_many(texts)
    batched = repeat * len(texts) / (time.perf_counter() - s)
    limit = int(getattr(gate, "max_chars", 100_000))
    size = min(100_000, limit)
    text = _long_text(size)
    gate.analyse(text)
    wall: list[float] = []
    cpu: list[float] = []
    label = ""
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        label = gate.analyse(text).label
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return {
        "prompts": len(texts),
        "p50_ms": 1000 * _pct(lat, 0.5),
        "p99_ms": 1000 * _pct(lat, 0.99),
        "batched_per_s": batched,
        "long_chars": size,
        "long_wall_ms": 1000 * min(wall),
        "long_wall_median_ms": 1000 * sorted(wall)[len(wall) // 2],
        "long_cpu_ms": 1000 * min(cpu),
        "long_label": label,
    }


def child_long(repeat: int) -> dict[str, object]:
    """Only the 100,000-character text: CPU and wall time, best and median of `repeat`."""
    from amparo.signals.classifiers.prompt.gate import PromptGate

    gate = PromptGate.load(cache_size=0, warm=True)
    text = _long_text(min(100_000, int(getattr(gate, "max_chars", 100_000))))
    gate.analyse(text)
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        gate.analyse(text)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return {
        "cpu_best_ms": 1000 * min(cpu),
        "cpu_median_ms": 1000 * sorted(cpu)[len(cpu) // 2],
        "wall_best_ms": 1000 * min(wall),
    }


def run_tree(src: Path, repeat: int, mode: str = "--child") -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, str(HERE), mode, "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
        env={**os.environ, "PYTHONPATH": str(src)},
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--child-long", action="store_true")
    ap.add_argument(
        "--alternate", type=int, default=0, help="only the long text: N rounds, this tree and the baseline in turn"
    )
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline", type=Path, default=Path("/work/main/src"))
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.repeat)))
        return
    if args.child_long:
        print(json.dumps(child_long(args.repeat)))
        return
    if args.alternate:
        print("| round | tree | CPU ms best | CPU ms median | wall ms best |")
        print("|---:|---|---:|---:|---:|")
        for k in range(args.alternate):
            for name, src in (("this tree", HERE.parents[1] / "src"), ("baseline", args.baseline)):
                r = run_tree(src, args.repeat, "--child-long")
                cells = [f"{r[key]:.0f}" for key in ("cpu_best_ms", "cpu_median_ms", "wall_best_ms")]
                print(f"| {k + 1} | {name} | " + " | ".join(cells) + " |")
        return
    rows = {"this tree": run_tree(HERE.parents[1] / "src", args.repeat)}
    if args.baseline.exists():
        rows[f"baseline ({args.baseline})"] = run_tree(args.baseline, args.repeat)
    print(
        "| gate | p50 ms | p99 ms | batched prompts/s | long text | CPU ms (best) | wall ms (best / median) | label |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, r in rows.items():
        print(
            f"| {name} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['batched_per_s']:,.0f} | {r['long_chars']:,} chars "
            f"| {r['long_cpu_ms']:.0f} | {r['long_wall_ms']:.0f} / {r['long_wall_median_ms']:.0f} | {r['long_label']} |"
        )


if __name__ == "__main__":
    main()
