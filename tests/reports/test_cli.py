"""`amparo reports ...` and `amparo evidence verify-package` as an operator runs them, against the stand-ins."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from typer.testing import CliRunner

from amparo.cli.main import app
from amparo.service import Service
from reports.conftest import confirmed_case, make_actor
from reports.synth import add_event


@pytest.fixture
def env(tmp_path: Path, ncmec: tuple[str, Any], tdb: tuple[str, Any]) -> dict[str, str]:
    return {
        "AMPARO_DATA_DIR": str(tmp_path / "data"),
        "AMPARO_ENVIRONMENT": "test",
        "AMPARO_DATABASE_URL": f"sqlite:///{tmp_path / 'amparo.db'}",
        "AMPARO_MASTER_KEY": "11" * 32,
        "AMPARO_SESSION_SECRET": "s" * 32,
        "AMPARO_DETECTORS": "none",
        "AMPARO_NCMEC_URL": ncmec[0],
        "AMPARO_NCMEC_USERNAME": "esp",
        "AMPARO_NCMEC_PASSWORD": "secret",
        "AMPARO_NCMEC_REPORTER_EMAIL": "tns@platform.example",
        "AMPARO_NCMEC_BACKOFF_SECONDS": "0.01",
        "AMPARO_DSA_TDB_URL": tdb[0],
        "AMPARO_DSA_TDB_TOKEN": "1|standin-token",
    }


def test_reports_verbs_end_to_end(env: dict[str, str], tmp_path: Path, ncmec, tdb) -> None:
    svc = Service(make_settings(tmp_path, env["AMPARO_DATABASE_URL"]))
    rita = make_actor(svc, "rita", "reviewer")
    case_id = confirmed_case(svc, rita)
    from datetime import UTC, datetime

    with svc.db.session() as s:
        eid = add_event(s, decision="block", labels=["sexual_deepfake"], at=datetime(2026, 2, 3, tzinfo=UTC))
    svc.close()
    run = CliRunner()

    r = run.invoke(app, ["reports", "statements", "--from", "2026-02-01", "--to", "2026-03-01", "--json"], env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"queued": 1}
    r = run.invoke(app, ["reports", "send", "--json"], env=env)
    assert r.exit_code == 0, r.output
    sent = [json.loads(line) for line in r.output.splitlines()]
    assert {x["target"] for x in sent if x["ok"]} == {"ncmec", "dsa_sor"}
    assert len(tdb[1].statements) == 1 and [x.state for x in ncmec[1].reports.values()] == ["finished"]

    r = run.invoke(app, ["reports", "list", "--json"], env=env)
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert all(x["status"] == "sent" for x in rows if x["target"] in ("ncmec", "dsa_sor"))

    r = run.invoke(app, ["reports", "user-statement", f"event-{eid}", "--language", "eu"], env=env)
    assert r.exit_code == 0 and "Arrazoien adierazpena" in r.output
    r = run.invoke(app, ["reports", "sor", f"event-{eid}"], env=env)
    assert json.loads(r.output)["category_specification"] == ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"]

    out = tmp_path / "tr"
    r = run.invoke(app, ["reports", "transparency", "--from", "2026-01-01", "--to", "2027-01-01", "--out", str(out),
                         "--json"], env=env)  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["statements_total"] == 1
    assert (out / "Part_5_own_initiative_illegal.csv").exists() and (out / "transparency_report.xlsx").exists()

    pkg = tmp_path / "pkg.zip"
    r = run.invoke(app, ["reports", "package", "--case", str(case_id), "--purpose", "order 1", "--out", str(pkg),
                         "--json"], env=env)  # fmt: skip
    assert r.exit_code == 0, r.output
    r = run.invoke(app, ["evidence", "verify-package", str(pkg), "--json"], env=env)
    assert r.exit_code == 0 and json.loads(r.output)["ok"]
    data = bytearray(pkg.read_bytes())
    with zipfile.ZipFile(pkg) as z:
        info = z.getinfo("records/items.json")
    data[info.header_offset + 30 + len(info.filename) + 5] ^= 0x01
    pkg.write_bytes(bytes(data))
    r = run.invoke(app, ["evidence", "verify-package", str(pkg)], env=env)
    assert r.exit_code == 1 and "records/items.json" in r.output

    r = run.invoke(app, ["reports", "package", "--case", "1", "--account", "x", "--purpose", "p", "--out",
                         str(tmp_path / "x.zip")], env=env)  # fmt: skip
    assert r.exit_code == 2 and "one scope" in r.output


def test_unreachable_target_exits_1_and_keeps_the_report(env: dict[str, str], tmp_path: Path) -> None:
    svc = Service(make_settings(tmp_path, env["AMPARO_DATABASE_URL"]))
    confirmed_case(svc, make_actor(svc, "rita", "reviewer"))
    svc.close()
    bad = {**env, "AMPARO_NCMEC_URL": "http://127.0.0.1:9/ispws", "AMPARO_NCMEC_ATTEMPTS": "1"}
    run = CliRunner()
    r = run.invoke(app, ["reports", "send", "--target", "ncmec", "--json"], env=bad)
    assert r.exit_code == 1
    r = run.invoke(app, ["reports", "list", "--status", "queued", "--json"], env=env)
    [row] = [json.loads(line) for line in r.output.splitlines()]
    assert row["attempts"] == 1 and "ConnectError" in row["last_error"]
    r = run.invoke(app, ["reports", "retry", str(row["id"]), "--json"], env=env)
    assert r.exit_code == 0 and json.loads(r.output)["ok"]
