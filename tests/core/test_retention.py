"""Retention deletes what the profile no longer lets us keep, and events never hold prompt text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from amparo.domain.items import Context, Item
from amparo.retention import run_retention
from amparo.store import events_repo


def test_events_past_retention_are_deleted(service, shared_data) -> None:
    photo = (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    v = service.pipeline.check(Item.from_image(photo))
    assert run_retention(service)["events_deleted"] == 0
    later = datetime.now(UTC) + timedelta(days=service.policy.retention.events_days + 1)
    out = run_retention(service, now=later)
    assert out["events_deleted"] == 1
    with service.db.session() as s:
        assert events_repo.get_event(s, event_id=v.event_id) is None


def test_event_keeps_evidence_terms_not_the_prompt(sqlite_service) -> None:
    prompt = "nude image of a 12 year old at the beach"
    v = sqlite_service.pipeline.check(Item.from_prompt(prompt, Context(account="acct")))
    assert v.decision.value == "refuse" and v.labels == ("csam_request",)
    with sqlite_service.db.session() as s:
        stored = events_repo.get_event(s, event_id=v.event_id).verdict
    text = str(stored)
    assert "beach" not in text and "normalised" not in text
    c = next(c for c in stored["classifications"] if c["stage"] == "prompt")
    assert c["details"]["label"] == "csam_request" and c["details"]["evidence"]


def test_retention_cli(tmp_path, monkeypatch) -> None:
    import json

    from typer.testing import CliRunner

    from amparo.cli.main import app

    monkeypatch.setenv("AMPARO_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("AMPARO_DETECTORS", "none")
    r = CliRunner().invoke(app, ["retention", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["events_deleted"] == 0 and "generations_deleted" in out and "evidence_deleted" in out
