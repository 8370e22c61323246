"""`amparo scan` of a folder that does not exist exited 0 ("0 matched" reads as clean)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from amparo.cli.main import app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AMPARO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AMPARO_DETECTORS", "none")
    return tmp_path


def test_a_missing_folder_is_a_usage_error(env: Path) -> None:
    r = CliRunner().invoke(app, ["scan", str(env / "no-such-folder"), "--workers", "1", "--no-progress"])
    assert r.exit_code == 2  # docs/cli.md: 2 = bad input or an error
    assert "no such file or folder" in r.output


def test_an_empty_existing_folder_is_fine(env: Path) -> None:
    (env / "empty").mkdir()
    r = CliRunner().invoke(app, ["scan", str(env / "empty"), "--workers", "1", "--no-progress"])
    assert r.exit_code == 0
