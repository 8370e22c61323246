"""Rebuild the public hard-benign requests (/work/data-public/prompts/hard_benign.jsonl).

Run: python scripts/build_hard_benign_data.py [--mirrors /work/.mirror] [--out /work/data-public/prompts]

Benign requests that look risky (over-refusal probes), written by others: sex education, abuse,
consent, parenting, and benign requests wrapped in jailbreak framing. Only rows the source itself
marks as benign or should-comply are kept, labelled `benign`; nothing is relabelled. Mirrors
(`fetch`): Reliable-Information-Lab-HEVS/Overrefusal_in_Criminal_Legal_Context,
allenai/noncompliance, allenai/wildteaming (commit 0897f74: the file was removed later),
0xshre/ParentingBench. Sources and licences: docs/prompt-public-data.md.

Splits: half the groups are `dev` (their errors may be read to find error classes), half `test`
(never read). The split is fixed by a hash of (dataset, group); the translations of one OR-Bench
prompt share a group, so one prompt is never in both.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

MIRRORS = Path("/work/.mirror")
OUT = Path("/work/data-public/prompts")
ORBENCH = "Reliable-Information-Lab-HEVS+Overrefusal_in_Criminal_Legal_Context"
WILDJAILBREAK_COMMIT = "0897f74"


def _git(mirror: Path, *args: str) -> str:
    git_dir = mirror / "repo"
    if (git_dir / ".git").is_dir():
        git_dir = git_dir / ".git"
    out = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def _clean(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _split(dataset: str, group: str) -> str:
    digest = hashlib.sha1(f"{dataset}{group}".encode()).hexdigest()
    return "dev" if int(digest, 16) % 2 == 0 else "test"


def _row(dataset: str, source: str, text: str, source_label: str, lang: str, group: str) -> dict[str, Any]:
    return {
        "text": text,
        "label": "benign",
        "source": source,
        "source_label": source_label,
        "lang": lang,
        "split": _split(dataset, group),
        "group": group,
    }


def orbench(mirrors: Path) -> list[dict[str, Any]]:
    """OR-Bench-80k ("seemingly toxic" benign prompts), the first 200 of five categories, in English
    and DeepL's French, German and Italian (the HEVS lab's selection); CC BY 4.0."""
    mirror = mirrors / ORBENCH
    rows = []
    for category in ("harmful", "illegal", "sexual", "unethical", "violence"):
        text = _git(mirror, "show", f"HEAD:data/orbench_{category}200.csv")
        for r in csv.DictReader(io.StringIO(text)):
            group = f"orbench80k_hevs:{r['prompt_id']}"
            for lang in ("en", "fr", "de", "it"):
                if t := _clean(r[f"text_{lang}"]):
                    label = f"or-bench-80k/{r['or_category']}" + ("" if lang == "en" else "/deepl-mt")
                    rows.append(_row("orbench80k_hevs", f"orbench80k_{lang}", t, label, lang, group))
    return rows


def coconot(mirrors: Path) -> list[dict[str, Any]]:
    """CoCoNot's contrast set: requests a model should answer (MIT)."""
    text = _git(mirrors / "allenai+noncompliance", "show", "HEAD:data/coconot_contrast_eval.jsonl")
    rows = []
    for line in text.splitlines():
        if line.strip():
            r = json.loads(line)
            group = f"coconot_contrast:{r['id']}"
            label = f"{r['category']}/{r['subcategory']}"
            rows.append(_row("coconot_contrast", "coconot_contrast", _clean(r["prompt"]), label, "en", group))
    return rows


def wildjailbreak(mirrors: Path) -> list[dict[str, Any]]:
    """WildJailbreak's evaluation rows of type adversarial_benign (ODC-BY per its dataset card)."""
    tsv = _git(mirrors / "allenai+wildteaming", "show", f"{WILDJAILBREAK_COMMIT}:data/eval.tsv")
    rows = []
    for i, r in enumerate(csv.DictReader(io.StringIO(tsv), delimiter="\t")):
        if r["data_type"] == "adversarial_benign":
            group = f"wildjailbreak_eval:{i}"
            label = f"{r['data_type']}/{r['label']}"
            text = _clean(r["adversarial"])
            rows.append(_row("wildjailbreak_eval", "wildjailbreak_benign", text, label, "en", group))
    return rows


def parentingbench(mirrors: Path) -> list[dict[str, Any]]:
    """ParentingBench's parent questions (README: MIT; the snapshot has no LICENSE file)."""
    mirror = mirrors / "0xshre+ParentingBench"
    rows = []
    for path in sorted(_git(mirror, "ls-tree", "-r", "--name-only", "HEAD").split()):
        if path.endswith(".yaml") and "/scenarios/" in path:
            y = yaml.safe_load(_git(mirror, "show", f"HEAD:{path}"))
            group = f"parentingbench:{y['scenario_id']}"
            label = f"{y.get('age_group')}/" + "|".join(y.get("domain") or [])
            rows.append(_row("parentingbench", "parentingbench", _clean(y["parent_question"]), label, "en", group))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirrors", type=Path, default=MIRRORS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = orbench(args.mirrors) + coconot(args.mirrors) + wildjailbreak(args.mirrors) + parentingbench(args.mirrors)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "hard_benign.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        counts[(r["source"], r["split"])] = counts.get((r["source"], r["split"]), 0) + 1
    print("hard_benign", len(rows), dict(sorted(counts.items())))


if __name__ == "__main__":
    main()
