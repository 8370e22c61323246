"""The CLI through its public interface (the installed `amparo` command and Typer's runner)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from amparo.cli.main import app

AMPARO = str(Path(sys.executable).parent / "amparo")


@pytest.fixture
def env(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AMPARO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AMPARO_DETECTORS", "none")
    return {**os.environ}


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), input=input)


def test_keys_banks_and_scan(env, shared_data, tmp_path) -> None:
    r = run("keys", "create", "ops", "--role", "admin", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["key"].startswith("amp_")
    assert "amp_" not in run("keys", "list").stdout  # the secret is never shown again
    assert run("banks", "create", "KNOWN", "--category", "csam").exit_code == 0
    assert run("banks", "create", "KNOWN", "--category", "csam").exit_code == 2
    r = run("banks", "add", "KNOWN", str(shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg"), "--json")
    assert json.loads(r.stdout)["added"] == 4
    folder = tmp_path / "uploads"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(shared_data / "pdq" / "bridge-mods" / "blur-a-lot.jpg", folder / "sub" / "copy.jpg")
    shutil.copy(shared_data / "pdq" / "reg-test" / "pen-and-coaster.png", folder / "other.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path / "scan.jsonl"
    # the real command, with its worker processes
    p = subprocess.run(
        [AMPARO, "scan", str(folder), "-o", str(out), "--workers", "2", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 1, p.stderr  # a csam match
    rows = {Path(r["path"]).name: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"copy.jpg", "other.png", "broken.jpg"}
    assert rows["copy.jpg"]["matches"][0]["bank"] == "KNOWN"
    assert rows["other.png"]["matches"] == []
    assert rows["broken.jpg"]["status"] == "error"
    summary = json.loads(p.stderr.strip().splitlines()[-1])
    assert summary["files"] == 3 and summary["severe"] == 1 and summary["errors"] == 1

    # disabled bank: nothing severe, exit 0; CSV output
    assert run("banks", "disable", "KNOWN").exit_code == 0
    p = subprocess.run(
        [AMPARO, "scan", str(folder), "--format", "csv", "--workers", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    table = list(csv.DictReader(io.StringIO(p.stdout)))
    assert len(table) == 3 and {r["status"] for r in table} == {"hashed", "error"}


def test_bank_import_export_cli(env, tmp_path) -> None:
    run("banks", "create", "B", "--category", "ncii")
    f = tmp_path / "h.txt"
    f.write_text("pdq " + "ab" * 32 + "\nmd5 " + "c" * 32 + "\n")
    r = run("banks", "import", "B", str(f), "--format", "pytx", "--json")
    assert json.loads(r.stdout)["imported"] == 2
    r = run("banks", "import", "B", "-", "--format", "pytx", input="pdq nothex\n")
    assert r.exit_code == 2 and "line 1" in r.stderr
    r = run("banks", "export", "B", "--format", "csv")
    assert r.stdout.splitlines()[0].startswith("signal_type,value") and len(r.stdout.splitlines()) == 3


def test_hash_and_check_many_inputs(env, shared_data) -> None:
    paths = [str(p) for p in sorted((shared_data / "pdq" / "bridge-mods").glob("*.jpg"))[:3]]
    r = run("hash", "-", "--json", input="\n".join(paths) + "\n")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(lines) == 3 and all(len(x["signals"]) == 4 for x in lines)
    r = run("check", *paths, "/nonexistent.jpg", "--json")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x.get("decision") for x in lines[:3]] == ["allow"] * 3
    assert lines[3]["error"]["code"] == "unreadable" and r.exit_code == 2


def test_explain_prints_every_stage(env, shared_data) -> None:
    r = run("explain", str(shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg"))
    assert r.exit_code == 0
    for stage in ("content", "hashes", "matching", "policy"):
        assert stage in r.stdout
    assert "verdict   allow" in r.stdout
