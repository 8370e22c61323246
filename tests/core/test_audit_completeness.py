"""Every privileged act is one audit record, whatever the interface; no record for routine starts;
auditors read how an event was decided, never the account or the prompt (issue 14, findings 8-9)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from amparo.audit import names
from amparo.store import audit_repo

T = 60.0


def h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _actions(service: Any, actor_prefix: str) -> list[tuple[str, str]]:
    with service.db.session() as s:
        recs = audit_repo.list_records(s, limit=1000)
    return [(r.action, r.subject_id) for r in reversed(recs) if r.actor.startswith(actor_prefix)]


def test_native_api_bank_changes_are_audited(service: Any, live_api: Any) -> None:
    url, keys = live_api
    admin = h(keys["admin"])
    assert (
        httpx.post(f"{url}/v1/banks", json={"name": "b1", "category": "csam"}, headers=admin, timeout=T).status_code
        == 201
    )
    r = httpx.post(
        f"{url}/v1/banks/b1/entries",
        json={"entries": [{"signal_type": "md5", "value": "a" * 32}]},
        headers=admin,
        timeout=T,
    )
    entry = r.json()["ids"][0]
    assert httpx.patch(
        f"{url}/v1/banks/b1/entries/{entry}", json={"opinion": "disputed"}, headers=admin, timeout=T
    ).is_success
    assert httpx.patch(f"{url}/v1/banks/b1", json={"negative": True}, headers=admin, timeout=T).is_success
    assert httpx.post(
        f"{url}/v1/banks/b1/import?format=lines&signal_type=md5", content="b" * 32 + "\n", headers=admin, timeout=T
    ).is_success
    assert httpx.get(f"{url}/v1/banks/b1/export", headers=admin, timeout=T).is_success
    assert httpx.delete(f"{url}/v1/banks/b1/entries/{entry}", headers=admin, timeout=T).is_success
    assert httpx.delete(f"{url}/v1/banks/b1", headers=admin, timeout=T).is_success
    assert _actions(service, "apikey:test-admin") == [
        (names.BANK_CREATE, "b1"),
        (names.BANK_ENTRY_ADD, "b1"),
        (names.BANK_ENTRY_UPDATE, "b1"),
        (names.BANK_UPDATE, "b1"),
        (names.BANK_IMPORT, "b1"),
        (names.BANK_EXPORT, "b1"),
        (names.BANK_ENTRY_REMOVE, "b1"),
        (names.BANK_DELETE, "b1"),
    ]
    with service.db.session() as s:
        upd = audit_repo.list_records(s, action=names.BANK_UPDATE)[0]
        assert upd.details == {"negative": True} and upd.actor_role == "admin"
        assert service.audit.verify_chain(s).ok


def test_hma_route_bank_changes_are_audited(service: Any, live_api: Any) -> None:
    url, keys = live_api
    admin = h(keys["admin"])
    assert httpx.post(f"{url}/c/banks", json={"name": "HMA_BANK"}, headers=admin, timeout=T).status_code == 201
    added = httpx.post(f"{url}/c/bank/HMA_BANK/signal", json={"video_md5": "c" * 32}, headers=admin, timeout=T).json()
    assert httpx.delete(f"{url}/c/bank/HMA_BANK/content/{added['id']}", headers=admin, timeout=T).is_success
    assert httpx.delete(f"{url}/c/bank/HMA_BANK", headers=admin, timeout=T).is_success
    assert _actions(service, "apikey:test-admin") == [
        (names.BANK_CREATE, "HMA_BANK"),
        (names.BANK_ENTRY_ADD, "HMA_BANK"),
        (names.BANK_ENTRY_REMOVE, "HMA_BANK"),
        (names.BANK_DELETE, "HMA_BANK"),
    ]


def test_video_bank_changes_are_audited(service: Any, live_api: Any) -> None:
    from video_samples import known_clip

    url, keys = live_api
    admin = h(keys["admin"])
    assert httpx.post(f"{url}/v1/banks", json={"name": "vids", "category": "csam"}, headers=admin, timeout=T).is_success
    up = httpx.post(
        f"{url}/v1/banks/vids/videos/upload", files={"file": ("c.mp4", known_clip())}, headers=admin, timeout=T
    )
    assert up.status_code == 201, up.text
    vid = up.json()["video_id"]
    assert httpx.get(f"{url}/v1/banks/vids/videos/{vid}/export", headers=admin, timeout=T).is_success
    assert httpx.delete(f"{url}/v1/banks/vids/videos/{vid}", headers=admin, timeout=T).json() == {"deleted": 1}
    assert _actions(service, "apikey:test-admin") == [
        (names.BANK_CREATE, "vids"),
        (names.BANK_ENTRY_ADD, "vids"),
        (names.BANK_EXPORT, "vids"),
        (names.BANK_ENTRY_REMOVE, "vids"),
    ]


@pytest.fixture
def cli_env(service: Any, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    s = service.settings
    for k, v in {
        "AMPARO_DATA_DIR": str(s.data_dir),
        "AMPARO_DATABASE_URL": s.resolved_database_url,
        "AMPARO_MASTER_KEY": "11" * 32,
        "AMPARO_DETECTORS": "none",
        "AMPARO_ENVIRONMENT": "test",
        "AMPARO_WATERMARK_KEY": "22" * 32,
        "AMPARO_SESSION_SECRET": "s" * 32,
    }.items():
        monkeypatch.setenv(k, v)
    return CliRunner()


def test_cli_bank_and_key_acts_are_audited_and_starts_are_not(service: Any, cli_env: CliRunner) -> None:
    from amparo.cli.main import app

    with service.db.session() as s:
        before = audit_repo.count_records(s)
    run = [
        ["banks", "create", "cli_bank", "--category", "ncii"],
        ["banks", "add", "cli_bank", "d" * 32, "--signal-type", "md5"],
        ["banks", "disable", "cli_bank"],
        ["banks", "export", "cli_bank"],
        ["banks", "delete", "cli_bank", "--yes"],
        ["keys", "create", "ops-bot", "--role", "submitter", "--json"],
    ]
    prefix = ""
    for args in run:
        out = cli_env.invoke(app, args)
        assert out.exit_code == 0, (args, out.output)
        if args[0] == "keys":
            import json

            prefix = json.loads(out.output.strip().splitlines()[-1])["prefix"]
    assert cli_env.invoke(app, ["keys", "revoke", prefix]).exit_code == 0
    acts = [a for a, _ in _actions(service, "cli:")]
    assert acts == [
        names.BANK_CREATE,
        names.BANK_ENTRY_ADD,
        names.BANK_UPDATE,
        names.BANK_EXPORT,
        names.BANK_DELETE,
        names.KEY_CREATED,
        names.KEY_REVOKED,
    ]
    with service.db.session() as s:
        after = audit_repo.count_records(s)
        assert audit_repo.count_records(s, action="vault.started") == 0
        created = audit_repo.list_records(s, action=names.KEY_CREATED)[0]
        assert created.details == {"name": "ops-bot", "role": "submitter", "purpose": "api"}
        assert "amp_" not in str(created.details)  # never the secret
    # 8 CLI calls, each a full service start: exactly the 7 acts were recorded, plus at most the
    # one settings.change of the CLI's own settings (its environment differs from the fixture's)
    assert after - before in (7, 8)


def test_settings_change_is_recorded_once(tmp_path: Any) -> None:
    from conftest import make_settings

    from amparo.service import Service

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")
    for _ in range(2):
        Service(settings).close()
    changed = settings.model_copy(update={"pdq_quality_floor": 70})
    svc = Service(changed)
    try:
        with svc.db.session() as s:
            recs = audit_repo.list_records(s, action=names.SETTINGS_CHANGE)
            assert len(recs) == 2  # the first start, then the edit; the identical second start none
            assert recs[0].details["changed"] == ["pdq_quality_floor"]
            assert recs[0].details["settings"]["master_key"] is True  # whether set, never the value
            assert "11" * 32 not in str(recs[0].details)
    finally:
        svc.close()


def test_auditor_reads_no_account_or_prompt_through_events(service: Any, live_api: Any) -> None:
    url, keys = live_api
    body = {"prompt": "a watercolour lighthouse at dusk", "account": "acct-4471"}
    ev = httpx.post(f"{url}/v1/check/prompt", json=body, headers=h(keys["submitter"]), timeout=T).json()["event_id"]
    admin_view = httpx.get(f"{url}/v1/events/{ev}", headers=h(keys["admin"]), timeout=T).json()
    assert admin_view["account"] == "acct-4471"
    r = httpx.get(f"{url}/v1/events/{ev}", headers=h(keys["auditor"]), timeout=T)
    assert r.status_code == 200
    view = r.json()
    assert view["account"] is None and view["decision"] == admin_view["decision"]
    assert "acct-4471" not in r.text and "lighthouse" not in r.text and "watercolour" not in r.text
    assert "classifications" not in view["verdict"] and "signals" not in view["verdict"]
    listed = httpx.get(f"{url}/v1/events", headers=h(keys["auditor"]), timeout=T)
    assert "acct-4471" not in listed.text
