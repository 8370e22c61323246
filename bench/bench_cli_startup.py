"""CLI start-up: wall and CPU time of light verbs, this checkout against another in the same run.

    python bench/bench_cli_startup.py                       # this checkout only
    python bench/bench_cli_startup.py --before ../main/src  # and another checkout's code, alternating
    python bench/bench_cli_startup.py --json                # one JSON object on stdout

Each code runs `python -m amparo.cli.main VERB` with its src/ first on PYTHONPATH, in its own
temporary data directory (migrated and given one bank first), n times per verb after one unmeasured
run; runs alternate between the codes so that a change in load hits both alike. CPU is the child's
user + system time (getrusage). Measure on a quiet machine: the load average is printed with it.
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
from typing import Any

VERBS: dict[str, list[str]] = {
    "--help": ["--help"],
    "keys create": ["keys", "create", "{name}", "--role", "admin"],
    "banks list": ["banks", "list"],
}


def env_for(src: Path, data_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPARO_")}
    env.update(PYTHONPATH=str(src), XDG_DATA_HOME=str(data_home), OMP_NUM_THREADS="1")
    return env


def run(env: dict[str, str], args: list[str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one CLI process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "amparo.cli.main", *args], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", type=Path, help="src/ of the code to compare with (e.g. main's checkout)")
    p.add_argument("-n", type=int, default=7, help="measured runs per verb and code")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    a = p.parse_args()

    codes = {"after": Path(__file__).resolve().parents[1] / "src"}
    if a.before:
        codes = {"before": a.before.resolve(), **codes}
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {c: {v: [] for v in VERBS} for c in codes}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="amparo-bench-cli-") as tmp:
        envs = {c: env_for(src, Path(tmp) / c) for c, src in codes.items()}
        for env in envs.values():
            run(env, ["migrate"])
            run(env, ["banks", "create", "BENCH", "--category", "csam"])
        for i in range(a.n + 1):
            for verb, args in VERBS.items():
                for code, env in envs.items():
                    measured = run(env, [x.format(name=f"bench-{i}") for x in args])
                    if i:  # the first run of each writes bytecode caches
                        samples[code][verb].append(measured)
    load_after = os.getloadavg()[0]

    results: dict[str, Any] = {
        code: {
            verb: {
                "wall_s": round(statistics.median(w for w, _ in xs), 3),
                "cpu_s": round(statistics.median(c for _, c in xs), 3),
            }
            for verb, xs in by_verb.items()
        }
        for code, by_verb in samples.items()
    }
    codes_used = {c: str(s) for c, s in codes.items()}
    out = {"n": a.n, "load_before": load_before, "load_after": load_after, "codes": codes_used, "results": results}
    if a.json:
        print(json.dumps(out))
        return
    print(f"CLI start-up, median of {a.n}, load {load_before:.2f} -> {load_after:.2f}")
    header = "".join(f" | {c}: wall / CPU" for c in codes)
    print(f"| verb{header} |\n|---{'|---' * len(codes)}|")
    for verb in VERBS:
        cells = "".join(f" | {results[c][verb]['wall_s']:.2f} s / {results[c][verb]['cpu_s']:.2f} s" for c in codes)
        print(f"| `{verb}`{cells} |")


if __name__ == "__main__":
    main()
