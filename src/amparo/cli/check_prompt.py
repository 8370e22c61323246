"""`amparo check-prompt TEXT...`: classify prompts with the request gate (one result per prompt)."""

from __future__ import annotations

import typer

from amparo.cli.output import emit, error_result, inputs
from amparo.errors import AmparoError


def register(app: typer.Typer) -> None:
    @app.command("check-prompt")
    def check_prompt(
        texts: list[str] = typer.Argument(..., help="prompts, or - for one prompt per line on stdin"),
        json_out: bool = typer.Option(False, "--json", help="one JSON object per line"),
    ) -> None:
        """Label prompts (csam_request, nudify_request, sexual_deepfake_request, ...) with their evidence."""
        from amparo.signals.classifiers.prompt.gate import PromptGate

        gate = PromptGate.load()
        for text in inputs(texts):
            try:
                a = gate.analyse(text)
            except AmparoError as e:
                emit(error_result(text[:80], e), as_json=True)
                continue
            # the prompt's own words ("N4K3D"), then what they were read as
            why = "; ".join(
                f"{e.kind}: {e.original!r}" + (f" = {e.text}" if e.original.lower() != e.text else "")
                if e.original
                else f"{e.kind}: {e.text}"
                for e in a.evidence[:4]
            )
            where = f" [window {a.window + 1} of {a.windows}]" if a.windows > 1 else ""
            emit(
                {"input": text, **a.to_dict()},
                as_json=json_out,
                text=f"{a.label:<23} {a.scores[a.label]:.2f}  {text[:60]!r}  ({why or 'nothing relevant'}){where}",
            )
