"""`amparo check-prompt TEXT...`: classify prompts with the request gate (one result per prompt)."""

from __future__ import annotations

import typer

from amparo.cli.output import emit, error_result, inputs
from amparo.errors import AmparoError


def register(app: typer.Typer) -> None:
    @app.command("check-prompt")
    def check_prompt(
        texts: list[str] = typer.Argument(
            ..., help="prompts, or - for one prompt per line on stdin"
        ),
        json_out: bool = typer.Option(False, "--json", help="one JSON object per line"),
    ) -> None:
        """Label prompts (csam_request, nudify_request, sexual_adult_request, ...)."""
        from amparo.signals.classifiers.prompt.gate import PromptGate

        gate = PromptGate.load()
        for text in inputs(texts):
            try:
                a = gate.analyse(text)
            except AmparoError as e:
                emit(error_result(text[:80], e), as_json=True)
                continue
            why = "; ".join(f"{e.kind}: {e.text}" for e in a.evidence[:4]) or "nothing relevant"
            emit(
                {"input": text, **a.to_dict()},
                as_json=json_out,
                text=f"{a.label:<21} {a.scores[a.label]:.2f}  {text[:60]!r}  ({why})",
            )
