"""Rebuild the age-labelled portrait sets used by `amparo eval ages` (data stays out of git).

Sources (each checked for its licence; see bench/results/ages.md):
- fairface540: 540 FairFace portraits (60 per age group 0-2 ... 70+, balanced by gender),
  published as github.com/thlaiquid-ai/demographic-test-images (folder fairface/,
  ground_truth.json). FairFace (Karkkainen & Joo, 2021) is CC BY 4.0; so is that copy.
  Age labels are ranges. The repository's other files (ig_*) are not FairFace and are skipped.
- fgnet: the FG-NET Aging Database (1,002 scanned photos of 82 people, exact ages 0-69; the
  FG-NET consortium, made available for research), as copied into
  github.com/TAKENISHI-Kaito/allAgesPredictSystem (images/, annotations.csv). Split by person
  (SHA-256 of the person id), so no one is in both halves. Its terms allow research use only:
  it stays out of git and out of CI.

Usage: python bench/ages_data.py FAIRFACE_GIT_DIR [FGNET_GIT_DIR] [--out OUT_DIR]
  each a clone (or bare git dir) of the repository named above; OUT_DIR defaults to
  bench/data/ages. Writes OUT_DIR/fairface540/, OUT_DIR/fgnet/ and one label file per source
  plus OUT_DIR/ages.csv (all sources) with columns path, age, source, person (FG-NET: who is
  shown, so cross-validation keeps a person's photos together), split: `calibrate` or
  `evaluate`, so a calibration is never judged on its own faces.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import subprocess
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
            rows.append(
                {"path": f"fairface540/{r['filename']}", "age": age, "source": "fairface", "split": split, "person": ""}
            )
    return _write(out / "fairface540.csv", rows)


def build_fgnet(src: Path, out: Path) -> Path:
    git_dir = _git_dir(src)
    dest = out / "fgnet"
    dest.mkdir(parents=True, exist_ok=True)
    rows = []
    for row in csv.DictReader(io.StringIO(_git_show(git_dir, "annotations.csv").decode("utf-8"))):
        name, person, age = row["filename"], row["person_id"], int(row["age"])
        (dest / name).write_bytes(_git_show(git_dir, f"images/{name}"))
        digest = hashlib.sha256(f"fgnet-{person}".encode()).digest()[0]
        split = "calibrate" if digest % 2 == 0 else "evaluate"
        rows.append(
            {"path": f"fgnet/{name}", "age": str(age), "source": "fgnet", "split": split, "person": f"fgnet-{person}"}
        )
    return _write(out / "fgnet.csv", rows)


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["path", "age", "source", "split", "person"])
        w.writeheader()
        w.writerows(rows)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description="Rebuild the age-labelled portrait sets (see the module docstring).")
    ap.add_argument("fairface", type=Path, help="clone of thlaiquid-ai/demographic-test-images")
    ap.add_argument("fgnet", type=Path, nargs="?", help="clone of TAKENISHI-Kaito/allAgesPredictSystem")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data" / "ages")
    args = ap.parse_args()
    files = [build_fairface(args.fairface, args.out)]
    if args.fgnet:
        files.append(build_fgnet(args.fgnet, args.out))
    rows: list[dict[str, str]] = []
    for f in files:
        rows.extend(csv.DictReader(f.open(encoding="utf-8")))
        print(f"{f}: {sum(1 for _ in f.open()) - 1} rows")
    print(f"{_write(args.out / 'ages.csv', rows)}: {len(rows)} rows")


if __name__ == "__main__":
    main()
