"""Rebuild the age-labelled portrait sets used by `amparo eval ages` (data stays out of git).

Sources (each checked for its licence; see bench/results/ages.md):
- fairface540: 540 FairFace portraits (60 per age group 0-2 ... 70+, balanced by gender),
  published as github.com/thlaiquid-ai/demographic-test-images (folder fairface/,
  ground_truth.json). FairFace (Karkkainen & Joo, 2021) is CC BY 4.0; so is that copy.
  Age labels are ranges. The repository's other files (ig_*) are not FairFace and are skipped.

Usage: python bench/ages_data.py SOURCE_GIT_DIR [OUT_DIR]
  SOURCE_GIT_DIR: a clone (or bare git dir) of that repository; OUT_DIR defaults to
  bench/data/ages. Writes OUT_DIR/fairface540/*.jpg and OUT_DIR/fairface540.csv with columns
  path, age, source, split: half of each age group (by SHA-256 of the file name) is
  `calibrate`, the other half `evaluate`, so a calibration is never judged on its own faces.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path


def _git_show(git_dir: Path, path: str) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"], check=True, capture_output=True
    ).stdout


def _git_dir(src: Path) -> Path:
    return src / ".git" if (src / ".git").exists() else src


def build_fairface(src: Path, out: Path) -> Path:
    git_dir = _git_dir(src)
    truth = json.loads(_git_show(git_dir, "fairface/ground_truth.json"))
    dest = out / "fairface540"
    dest.mkdir(parents=True, exist_ok=True)
    by_group: dict[str, list[dict[str, str]]] = {}
    for row in truth:
        name = str(row["filename"])
        if not name.startswith("fairface_"):
            continue
        (dest / name).write_bytes(_git_show(git_dir, f"fairface/{name}"))
        by_group.setdefault(str(row["age"]), []).append(row)
    rows = []
    for group, members in sorted(by_group.items()):
        members.sort(key=lambda r: hashlib.sha256(str(r["filename"]).encode()).hexdigest())
        for i, r in enumerate(members):
            age = "70+" if group.startswith("more than") else group
            split = "calibrate" if i % 2 == 0 else "evaluate"
            rows.append({"path": f"fairface540/{r['filename']}", "age": age, "source": "fairface", "split": split})
    labels = out / "fairface540.csv"
    with labels.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["path", "age", "source", "split"])
        w.writeheader()
        w.writerows(rows)
    return labels


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    src = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).parent / "data" / "ages"
    labels = build_fairface(src, out)
    n = sum(1 for _ in labels.open()) - 1
    print(f"{labels}: {n} rows")


if __name__ == "__main__":
    main()
