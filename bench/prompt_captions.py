"""Benign captions and real prompts through the request gate (issue 9 quality bar).

    PYTHONPATH=src python bench/prompt_captions.py [--split test] [--json out.json]

Reads the public sets under /work/data-public/prompts/ (built by the learned-stage
helper's scripts/build_public_prompt_data.py; see its SOURCES.md for licences): COCO 2017
val captions (the chosen split), Multi30k captions (en, de, fr; test only) and the Krea
open prompts (real Stable Diffusion prompts, no labels). Every row of a source is a
benign caption or an ordinary prompt, so any csam_request / nudify_request /
sexual_deepfake_request is a false alarm; minor_nonsexual is checked against an
independent list of minor words written for this bench (not the gate's lexicons):
a minor_nonsexual verdict on a text without any of them is counted as invented.

The same script runs against another checkout (PYTHONPATH=/work/main/src) to compare
with the gate before this change; it uses only the API both share.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

DATA = Path(os.environ.get("AMPARO_PUBLIC_PROMPTS", "/work/data-public/prompts"))
VIOLATIONS = ("csam_request", "nudify_request", "sexual_deepfake_request")
# Words that name a child, a young person or a school setting, per caption language.
_MINOR_WORDS = {
    "en": r"child\w*|kid|kids|kiddie\w*|boy|boys|girl|girls|bab(y|ies)|toddler\w*|infant\w*|newborn\w*|teen\w*|"
    r"youth\w*|youngster\w*|school\w*|student\w*|pupil\w*|son|sons|daughter\w*|niece\w*|nephew\w*|juvenile\w*|"
    r"adolescent\w*|minor|minors|kindergarten\w*|preschool\w*|playground\w*|classroom\w*|preteen\w*|tween\w*|"
    r"little league|scouts?|grandson\w*|granddaughter\w*|brother|sister|toddl\w*|childi",
    "de": r"kind\w*|junge\w*|jung\w*|mädchen\w*|madchen\w*|bub\w*|bab(y|ys)|säugling\w*|kleinkind\w*|schul\w*|"
    r"schüler\w*|jugendlich\w*|teenager\w*|sohn\w*|söhne\w*|tochter\w*|töchter\w*|enkel\w*|klassenzimmer\w*|"
    r"kindergarten\w*|grundschul\w*|\w*schulmädchen|\w*kinder\w*|bruder|schwester|nichte|neffe",
    "fr": r"enfant\w*|garçon\w*|garcon\w*|fille\w*|fillette\w*|bébé\w*|bebe\w*|nourrisson\w*|bambin\w*|ado\w*|"
    r"adolescent\w*|écol\w*|ecol\w*|élève\w*|eleve\w*|gamin\w*|fils|petite?s?|collég\w*|lycé\w*|jeune\w*|"
    r"frère|sœur|soeur|neveu|nièce|maternelle|crèche|scout\w*",
}
# English words and stated ages under 18 count in every language ("Kids' Food Basket").
_ANY = (
    r"kids?|\d{1,2}\s*-?\s*(years?|yrs?)\s*-?\s*old|(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen)\s*-?\s*years?\s*-?\s*old"
)
MINOR_WORD = {lang: re.compile(rf"\b({pat}|{_ANY})\b", re.IGNORECASE) for lang, pat in _MINOR_WORDS.items()}


def _rows(name: str, split: str | None, langs: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    path = DATA / name
    if not path.exists():
        sys.exit(f"missing {path}: build the public prompt data first (see SOURCES.md there)")
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    if split:
        rows = [r for r in rows if r.get("split") == split]
    if langs:
        rows = [r for r in rows if r.get("lang") in langs]
    return rows


def _judge(gate: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    t0 = time.perf_counter()
    found = gate.analyse_many([r["text"] for r in rows])
    elapsed = time.perf_counter() - t0
    counts = Counter(a.label for a in found)
    flagged = []
    invented = []
    for r, a in zip(rows, found, strict=True):
        ev = [f"{e.kind}:{getattr(e, 'original', '') or e.text}" for e in a.evidence]
        if a.label in VIOLATIONS:
            flagged.append({"text": r["text"], "label": a.label, "evidence": ev})
        pattern = MINOR_WORD.get(r.get("lang", "en"))
        if a.label == "minor_nonsexual" and pattern is not None and not pattern.search(r["text"]):
            invented.append({"text": r["text"], "evidence": ev})
    n = len(rows)
    return {
        "n": n,
        "labels": dict(counts),
        "violations": {label: counts.get(label, 0) for label in VIOLATIONS},
        "minor_nonsexual": counts.get("minor_nonsexual", 0),
        "minor_without_minor_word": len(invented),
        "minor_without_minor_word_rate": len(invented) / n if n else None,
        "flagged": flagged,
        "invented_minor": invented,
        "prompts_per_s": n / elapsed if elapsed else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="test", help="COCO split (test: never looked at while tuning)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from amparo.signals.classifiers.prompt.gate import PromptGate

    gate = PromptGate.load()
    sources = {
        f"coco_val2017 ({args.split})": _rows("coco_val2017.jsonl", args.split),
        "multi30k en": _rows("multi30k.jsonl", None, ("en",)),
        "multi30k de": _rows("multi30k.jsonl", None, ("de",)),
        "multi30k fr": _rows("multi30k.jsonl", None, ("fr",)),
        "krea open prompts": _rows("krea_open_prompts.jsonl", None),
    }
    report = {name: _judge(gate, rows) for name, rows in sources.items()}
    print("| source | n | csam_request | nudify_request | sexual_deepfake_request | minor_nonsexual "
          "| of which no minor word |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in report.items():
        v = r["violations"]
        rate = r["minor_without_minor_word_rate"]
        print(
            f"| {name} | {r['n']:,} | {v['csam_request']} | {v['nudify_request']} | {v['sexual_deepfake_request']} "
            f"| {r['minor_nonsexual']} | {r['minor_without_minor_word']} ({100 * rate:.2f} %) |"
        )
    for name, r in report.items():
        for f in r["flagged"]:
            print(f"  {name}: {f['label']}: {f['text'][:120]!r} <- {'; '.join(f['evidence'][:4])}")
        for f in r["invented_minor"]:
            print(
                f"  {name}: minor_nonsexual without a minor word: {f['text'][:120]!r} <- {'; '.join(f['evidence'][:3])}"
            )
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
