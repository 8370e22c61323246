"""`amparo users create` and `amparo audit verify|checkpoint` as a person runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from amparo.cli.main import app
from amparo.store.database import Database
from amparo.store.tables_audit import AuditRecordRow


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "AMPARO_DATA_DIR": str(tmp_path / "data"),
        "AMPARO_ENVIRONMENT": "test",
        "AMPARO_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'amparo.db'}",
    }


def test_users_and_audit_verify(env: dict[str, str], tmp_path: Path) -> None:
    run = CliRunner()
    r = run.invoke(
        app,
        ["users", "create", "rita", "--role", "reviewer", "--password-stdin"],
        input="a-long-benign-password\n",
        env=env,
    )
    assert r.exit_code == 0, r.output
    r = run.invoke(
        app,
        ["users", "create", "ann", "--role", "queen", "--password-stdin"],
        input="a-long-benign-password\n",
        env=env,
    )
    assert r.exit_code != 0 and "unknown role" in r.output
    r = run.invoke(
        app,
        ["users", "create", "bo", "--role", "auditor", "--password-stdin"],
        input="short\n",
        env=env,
    )
    assert r.exit_code != 0 and "at least" in r.output
    r = run.invoke(
        app,
        ["users", "create", "bo", "--role", "auditor", "--password-stdin"],
        input="another-long-password\n",
        env=env,
    )
    assert r.exit_code == 0
    cp_file = tmp_path / "cp.json"
    r = run.invoke(app, ["audit", "checkpoint", "--out", str(cp_file)], env=env)
    assert r.exit_code == 0 and json.loads(cp_file.read_text())["seq"] == 4
    r = run.invoke(app, ["audit", "verify", "--json", "--checkpoint", str(cp_file)], env=env)
    assert r.exit_code == 0 and json.loads(r.output)["ok"] is True
    db = Database(env["AMPARO_DATABASE_URL"])
    with db.session() as s:
        s.execute(
            update(AuditRecordRow).where(AuditRecordRow.seq == 2).values(subject_id="mallory")
        )
    db.dispose()
    r = run.invoke(app, ["audit", "verify", "--json"], env=env)
    out = json.loads(r.output)
    assert r.exit_code == 1 and out["first_broken_seq"] == 2 and "altered" in out["problem"]
    r = run.invoke(app, ["audit", "verify"], env=env)
    assert r.exit_code == 1 and "BROKEN at record 2" in r.output
