"""`amparo exchanges ...` end to end against the StopNCII stand-in."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from amparo.cli.main import app
from exchanges.conftest import STOPNCII_CONFIG


@pytest.fixture
def env(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AMPARO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AMPARO_DETECTORS", "none")


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_exchanges_cli(env, stopncii) -> None:  # type: ignore[no-untyped-def]
    url, state = stopncii
    state.records = [
        {
            "lastModtimestamp": 100 + i,
            "signalType": "ImagePDQ",
            "hashValue": f"{i:064x}",
            "hashStatus": "Active",
            "caseNumbers": {},
            "CSPFeedbacks": [],
        }
        for i in range(12)
    ]
    cfg = json.dumps({**STOPNCII_CONFIG, "base_url": url})
    r = run(
        "exchanges",
        "add",
        "sn",
        "--kind",
        "stopncii",
        "--bank",
        "sn",
        "--category",
        "ncii",
        "--config",
        cfg,
        "--interval",
        "0",
        "--json",
    )
    assert r.exit_code == 0, r.output
    assert run("exchanges", "add", "sn", "--kind", "stopncii", "--bank", "sn", "--config", cfg).exit_code == 2  # exists
    r = run("exchanges", "add", "x", "--kind", "nope", "--bank", "sn", "--config", "{}")
    assert r.exit_code == 2 and "unknown exchange type" in r.output
    r = run(
        "exchanges",
        "add",
        "y",
        "--kind",
        "stopncii",
        "--bank",
        "sn",
        "--config",
        '{"subscription_key_env": "a b", "fetch_key_env": "F"}',
    )
    assert r.exit_code == 2 and "environment variable" in r.output  # a secret pasted into config is refused

    r = run("exchanges", "sync", "--max-pages", "1", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["added"] == 10
    r = run("exchanges", "sync", "sn", "--json")
    d = json.loads(r.stdout)
    assert r.exit_code == 0 and d["added"] == 2 and d["cursor"] == {"start": 112, "token": None}
    d = json.loads(run("exchanges", "status", "sn", "--json").stdout)
    assert d["added"] == 12 and d["runs"] == 2 and d["status"] == "ok"
    rows = [json.loads(x) for x in run("exchanges", "list", "--json").stdout.splitlines()]
    assert [x["name"] for x in rows] == ["sn"]
    assert "stopncii" in run("exchanges", "types").stdout

    r = run("exchanges", "partners", "add", "peer", "--bank", "sn", "--json")
    key = json.loads(r.stdout)["key"]
    assert r.exit_code == 0 and key.startswith("amx_")
    assert key not in run("exchanges", "partners", "list").stdout
    assert run("exchanges", "partners", "add", "peer2", "--bank", "nope").exit_code == 2
    assert json.loads(run("exchanges", "partners", "revoke", "peer", "--json").stdout)["revoked"] is True
    assert len(json.loads(run("exchanges", "key", "--json").stdout)["public_key"]) == 64

    r = run("exchanges", "submit", "sn", "--bank", "sn", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["submitted"] == 12 and len(state.submitted) == 12
    r = run("exchanges", "submit", "sn", "zz")
    assert r.exit_code == 2 and "malformed" in r.output
    r = run("exchanges", "feedback", "sn", f"{3:064x}", "--kind", "false_positive", "--json")
    assert r.exit_code == 0 and state.feedback[-1] == {
        "tags": [],
        "feedbackValue": "NotBlocked",
        "hashValue": f"{3:064x}",
    }
    assert run("exchanges", "feedback", "sn", f"{3:064x}", "--kind", "liked").exit_code == 2

    state.function_keys["FetchHashes"] = "rotated"
    r = run("exchanges", "sync", "sn", "--json")
    assert r.exit_code == 2 and json.loads(r.stdout)["status"] == "failed"
    assert run("exchanges", "status", "nope").exit_code == 2
    assert run("exchanges", "remove", "sn").exit_code == 0
    assert run("exchanges", "list", "--json").stdout == ""
