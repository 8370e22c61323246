"""`amparo eval prompts [FILE]`: precision, recall and FPR per label, language and source;
the confusion matrix; every error with the evidence that decided it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from amparo.cli.output import fail
from amparo.errors import AmparoError


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def _label_table(out: Any, per_label: dict[str, Any]) -> None:
    out(f"{'label':<26}{'support':>8}{'precision':>11}{'recall':>8}{'FPR':>8}{'predicted':>11}\n")
    for label, s in per_label.items():
        out(
            f"{label:<26}{s['support']:>8}{_fmt(s['precision']):>11}{_fmt(s['recall']):>8}{_fmt(s['fpr']):>8}"
            f"{s['tp'] + s['fp']:>11}\n"
        )


def _print_text(summary: dict[str, Any]) -> None:
    overall = summary["overall"]
    out = sys.stdout.write
    out(f"prompts: {overall['n']}  accuracy: {_fmt(overall['accuracy'])}\n\n")
    _label_table(out, overall["per_label"])
    out("\nper language\n")
    out(
        f"{'lang':<6}{'n':>6}{'csam rec':>10}{'csam FPR':>10}{'hard FPR':>10}{'nudify rec':>12}{'deepfake rec':>14}"
        f"{'obf csam':>10}{'obf nudify':>12}\n"
    )
    for lang, e in summary["languages"].items():
        obf = e.get("obfuscated_recall", {})
        out(
            f"{lang:<6}{e['n']:>6}{_fmt(e['recall'].get('csam_request')):>10}"
            f"{_fmt(e['fpr'].get('csam_request')):>10}{_fmt(e['hard_benign_csam_fpr']):>10}"
            f"{_fmt(e['recall'].get('nudify_request')):>12}{_fmt(e['recall'].get('sexual_deepfake_request')):>14}"
            f"{_fmt(obf.get('csam_request')):>10}{_fmt(obf.get('nudify_request')):>12}\n"
        )
    if len(summary.get("sources", {})) > 1:
        for source, rep in summary["sources"].items():
            out(f"\nsource {source or '(none)'}: {rep['n']} prompts, accuracy {_fmt(rep['accuracy'])}\n")
            _label_table(out, {k: v for k, v in rep["per_label"].items() if v["support"] or v["fp"]})
    if "mutations" in summary:
        out("\nrecall per obfuscation\n")
        for m, r in summary["mutations"].items():
            out(f"  {m:<14} csam {_fmt(r['csam_request'])}  nudify {_fmt(r['nudify_request'])}\n")
    out("\nconfusion (rows: truth, columns: predicted)\n")
    matrix = overall["confusion"]
    names = list(matrix)
    out(" " * 26 + "".join(f"{n[:10]:>11}" for n in names) + "\n")
    for t in names:
        out(f"{t:<26}" + "".join(f"{matrix[t][p]:>11}" for p in names) + "\n")
    errors = summary["errors"]
    out(f"\nerrors: {len(errors)}\n")
    for e in errors:
        why = "; ".join(f"{ev['kind']} {ev.get('original', ev['text'])!r}" for ev in e["evidence"]) or "nothing found"
        tag = f" [{e['mutation']}]" if e["mutation"] else ""
        out(
            f"  {e['label']} → {e['predicted']} ({e['lang']}, {e['source'] or '-'}){tag}: "
            f"{e['text'][:100]!r}  ← {why}\n"
        )


def register_eval(eval_app: typer.Typer) -> None:
    @eval_app.command("prompts")
    def eval_prompts(
        file: Path | None = typer.Argument(
            None, help="JSON Lines with a text and a label field; default: the shipped test split"
        ),
        json_out: bool = typer.Option(False, "--json"),
        obfuscate: bool = typer.Option(False, "--obfuscate", help="also score obfuscated variants"),
        split: str = typer.Option("test", help="shipped split when no FILE is given"),
        mapping: list[str] = typer.Option(
            [], "--map", help="SOURCE_LABEL=GATE_LABEL, repeatable; '*=benign' maps every other value"
        ),
        text_field: str = typer.Option("text", "--text-field", help="field holding the prompt (dotted for nesting)"),
        label_field: str = typer.Option("label", "--label-field"),
        lang_field: str = typer.Option("lang", "--lang-field"),
        source_field: str = typer.Option("source", "--source-field"),
    ) -> None:
        """Evaluate the request gate on a labelled prompt set."""
        from amparo.signals.classifiers.prompt.dataset import load_dataset
        from amparo.signals.classifiers.prompt.evaluate import (
            from_prompt_rows,
            misses,
            parse_mapping,
            per_source,
            read_mapped,
            score,
            summarise,
        )
        from amparo.signals.classifiers.prompt.gate import ALL_LABELS, PromptGate

        try:
            table = parse_mapping(mapping, ALL_LABELS)
            if file:
                rows = list(
                    read_mapped(
                        file,
                        mapping=table,
                        labels=ALL_LABELS,
                        text_field=text_field,
                        label_field=label_field,
                        lang_field=lang_field,
                        source_field=source_field,
                        default_source=file.stem,
                    )
                )
            else:
                rows = from_prompt_rows(load_dataset([split]))
            if not rows:
                raise fail("no rows to evaluate")
            scored = score(PromptGate.load(), rows, obfuscate=obfuscate)
        except AmparoError as e:
            raise fail(e.message) from e
        summary = summarise(scored)
        summary["sources"] = per_source(scored)
        summary["errors"] = misses(scored)
        if json_out:
            sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        else:
            _print_text(summary)
