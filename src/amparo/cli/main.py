"""The `amparo` command group. Each verb lives in its own module with `register(app)`.

Verbs are imported only when invoked: `amparo --help` and light verbs never pay for model runtimes,
numba or the web stack. The table below names each verb, its module and its one-line help, so the
top-level help is printed without importing any verb (a test checks it agrees with the modules).
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import Any

# One thread per numeric runtime (set before numpy/onnxruntime load): two are slower here.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import typer  # noqa: E402
from typer.core import TyperGroup  # noqa: E402

# verb -> (module under amparo.cli, short help). Modules register with `register(app)`.
VERBS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "Run the HTTP API (OpenAPI docs at /docs)."),
    "migrate": ("migrate", "Create or upgrade the database schema."),
    "keys": ("keys", "API keys (roles: admin, submitter, reviewer, auditor)."),
    "banks": ("banks", "Hash banks: create, list, import, export, add entries."),
    "exchanges": ("exchanges", "Hash exchanges (NCMEC, StopNCII, ThreatExchange, Amparo partners): sync and state."),
    "hash": ("hash", "Print the hashes of files."),
    "check": ("check", "Check images through the whole pipeline and print the verdict."),
    "explain": ("explain", "Show every cascade stage and the rule that fired for one image."),
    "scan": ("scan", "Scan a folder of images against the banks (and detectors with --full)."),
    "scan-dataset": ("scan_dataset", "Scan a training set on Ray Data; write a removal list (resumable)."),
    "check-prompt": ("check_prompt", "Check prompts through the request gate."),
    "provenance": ("provenance", "Provenance keys, stamping and verification."),
    "audit": ("audit", "Verify the audit trail and export checkpoints."),
    "users": ("users", "Reviewer accounts for the web UI."),
    "trace": ("trace", "Trace a generated image back to the request that made it."),
    "proxy": ("proxy", "The OpenAI-compatible generation guard."),
    "retention": ("retention", "Purge what the retention rules say is due."),
    "evidence": ("evidence", "Evidence vault: list, holds, export, deletion, verify."),
    "reports": ("reports", "Legal reports (NCMEC, DSA), transparency report, Art. 17 statements, evidence packages."),
    "verify": ("verify", "Check the audit chain and every sealed row; name the first broken one."),
}
# eval subcommand -> (module, short help). Modules register with `register_eval(eval_app)`.
EVALS: dict[str, tuple[str, str]] = {
    "prompts": ("eval_prompts", "Measure the request gate on a labelled JSON Lines set."),
    "images": ("eval_images", "Measure the image detectors on a labelled set."),
    "ages": ("eval_ages", "Measure apparent age on a labelled set of faces."),
}


def _load(module: str, name: str, hook: str) -> Any | None:
    """Import one verb module, let it register on a scratch Typer and return its click command."""
    try:
        mod = importlib.import_module(f"amparo.cli.{module}")
    except ModuleNotFoundError as e:  # a verb whose room is not installed
        if e.name != f"amparo.cli.{module}":
            raise
        return None
    scratch = typer.Typer()
    getattr(mod, hook)(scratch)
    # A lone command would become the group itself; a second dummy keeps the registry a group.
    scratch.command("__scratch__", hidden=True)(lambda: None)
    group = typer.main.get_command(scratch)
    commands: dict[str, Any] = getattr(group, "commands", {})
    return commands.get(name)


class LazyGroup(TyperGroup):
    """A click group whose subcommands come from a static table and load on first use."""

    table: dict[str, tuple[str, str]] = {}
    hook = "register"

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(set(self.table) | set(self.commands))

    def get_command(self, ctx: Any, cmd_name: str) -> Any | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in self.table:
            return None
        cmd = _load(self.table[cmd_name][0], cmd_name, self.hook)
        if cmd is not None:
            self.commands[cmd_name] = cmd
        return cmd

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, self.table[name][1]) for name in sorted(self.table)]
        rows += [(name, c.get_short_help_str()) for name, c in sorted(self.commands.items()) if name not in self.table]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class VerbGroup(LazyGroup):
    table = VERBS


class EvalGroup(LazyGroup):
    table = EVALS
    hook = "register_eval"


app = typer.Typer(
    name="amparo",
    help="Amparo: child-safety layer for generative-AI and upload platforms.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=VerbGroup,
)
eval_app = typer.Typer(
    help="Measure detectors on a labelled set.", no_args_is_help=True, rich_markup_mode=None, cls=EvalGroup
)
app.add_typer(eval_app, name="eval")


def main() -> None:
    try:
        app()
    except SystemExit:
        settle_for_exit()
        raise


def settle_for_exit() -> None:
    """Interpreter shutdown walks every object left in several full collections: for a CLI that
    loaded SQLAlchemy, the ORM and Typer, a fifth of a light verb's time (about 0.1 s here), and
    one collection of our own would still cost a quarter of that. Instead the databases the verb
    opened are closed explicitly, as the collection used to close them, and the heap is frozen:
    the operating system reclaims it with the process. atexit handlers still run."""
    database = sys.modules.get("amparo.store.database")  # loaded only by verbs that open one
    if database is not None:
        database.dispose_all()
    gc.freeze()


if __name__ == "__main__":
    main()
