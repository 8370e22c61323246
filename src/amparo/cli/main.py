"""The `amparo` command group. Each verb lives in its own module with `register(app)`."""

from __future__ import annotations

import importlib
import os

# One thread per numeric runtime (set before numpy/onnxruntime load): two are slower here.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import typer  # noqa: E402

app = typer.Typer(
    name="amparo",
    help="Amparo: child-safety layer for generative-AI and upload platforms.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
eval_app = typer.Typer(help="Measure detectors on a labelled set.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

VERB_MODULES = (
    "serve",
    "migrate",
    "keys",
    "banks",
    "hash",
    "check",
    "explain",
    "scan",
    "check_prompt",
    "provenance",
    "audit",
    "users",
    "trace",
    "proxy",
    "retention",
    "evidence",
)
EVAL_MODULES = ("eval_prompts", "eval_images", "eval_ages")

for _name in VERB_MODULES:
    try:
        _mod = importlib.import_module(f"amparo.cli.{_name}")
    except ModuleNotFoundError as _e:  # a verb whose room is not installed
        if _e.name != f"amparo.cli.{_name}":
            raise
        continue
    _mod.register(app)

for _name in EVAL_MODULES:
    try:
        _mod = importlib.import_module(f"amparo.cli.{_name}")
    except ModuleNotFoundError as _e:
        if _e.name != f"amparo.cli.{_name}":
            raise
        continue
    _mod.register_eval(eval_app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
