"""`amparo eval prompts [FILE]`: precision, recall, FPR per label and language; confusion matrix."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from amparo.cli.output import fail
from amparo.errors import AmparoError


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def _print_text(summary: dict) -> None:  # type: ignore[type-arg]
    overall = summary["overall"]
    out = sys.stdout.write
    out(f"prompts: {overall['n']}  accuracy: {_fmt(overall['accuracy'])}\n\n")
    out(f"{'label':<22}{'support':>8}{'precision':>11}{'recall':>8}{'FPR':>8}\n")
    for label, s in overall["per_label"].items():
        out(
            f"{label:<22}{s['support']:>8}{_fmt(s['precision']):>11}{_fmt(s['recall']):>8}{_fmt(s['fpr']):>8}\n"
        )
    out("\nper language\n")
    out(
        f"{'lang':<6}{'n':>5}{'csam rec':>10}{'csam FPR':>10}{'hard FPR':>10}{'nudify rec':>12}"
        f"{'obf csam':>10}{'obf nudify':>12}\n"
    )
    for lang, e in summary["languages"].items():
        obf = e.get("obfuscated_recall", {})
        out(
            f"{lang:<6}{e['n']:>5}{_fmt(e['recall'].get('csam_request')):>10}"
            f"{_fmt(e['fpr'].get('csam_request')):>10}{_fmt(e['hard_benign_csam_fpr']):>10}"
            f"{_fmt(e['recall'].get('nudify_request')):>12}{_fmt(obf.get('csam_request')):>10}"
            f"{_fmt(obf.get('nudify_request')):>12}\n"
        )
    if "mutations" in summary:
        out("\nrecall per obfuscation\n")
        for m, r in summary["mutations"].items():
            out(f"  {m:<14} csam {_fmt(r['csam_request'])}  nudify {_fmt(r['nudify_request'])}\n")
    out("\nconfusion (rows: truth, columns: predicted)\n")
    matrix = overall["confusion"]
    names = list(matrix)
    out(" " * 22 + "".join(f"{n[:10]:>11}" for n in names) + "\n")
    for t in names:
        out(f"{t:<22}" + "".join(f"{matrix[t][p]:>11}" for p in names) + "\n")


def register_eval(eval_app: typer.Typer) -> None:
    @eval_app.command("prompts")
    def eval_prompts(
        file: Path | None = typer.Argument(
            None,
            help="JSON Lines with text and label (lang optional); default: the shipped test split",
        ),
        json_out: bool = typer.Option(False, "--json"),
        obfuscate: bool = typer.Option(False, "--obfuscate", help="also score obfuscated variants"),
        split: str = typer.Option("test", help="shipped split when no FILE is given"),
    ) -> None:
        """Evaluate the request gate on a labelled prompt set."""
        from amparo.signals.classifiers.prompt.dataset import load_dataset, read_rows
        from amparo.signals.classifiers.prompt.evaluate import misses, score, summarise
        from amparo.signals.classifiers.prompt.gate import PROMPT_LABELS, PromptGate

        try:
            rows = list(read_rows(file)) if file else load_dataset([split])
            unknown = {r.label for r in rows} - set(PROMPT_LABELS)
            if unknown:
                raise fail(f"unknown labels {sorted(unknown)}; expected {', '.join(PROMPT_LABELS)}")
            if not rows:
                raise fail("no rows to evaluate")
            scored = score(PromptGate.load(), rows, obfuscate=obfuscate)
        except AmparoError as e:
            raise fail(e.message) from e
        summary = summarise(scored)
        summary["misses"] = misses(scored)
        if json_out:
            sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        else:
            _print_text(summary)
