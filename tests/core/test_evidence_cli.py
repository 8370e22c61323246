"""`amparo evidence`: holds, export, deletion with a tombstone, integrity — through the CLI."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from amparo.cli.main import app
from amparo.service import Service
from amparo.settings import Settings
from amparo.store import evidence_repo


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_hold_export_delete(tmp_path, monkeypatch, shared_data) -> None:
    monkeypatch.setenv("AMPARO_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("AMPARO_DETECTORS", "none")
    monkeypatch.setenv("AMPARO_MASTER_KEY", "33" * 32)
    photo = (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    with Service(Settings()) as svc, svc.db.session() as s:
        ref = svc.vault.capture(s, data=photo, item_id="item-1", event_id=1).ref

    listed = json.loads(run("evidence", "list", "--json").stdout.splitlines()[0])
    assert listed["ref"] == ref and listed["holds"] == []
    r = run("evidence", "hold", ref, "--reason", "Fiscalía order 12/2026", "--days", "90", "--json")
    assert r.exit_code == 0, r.output
    hold_id = json.loads(r.stdout)["hold_id"]
    # retention cannot remove held evidence, and deletion is refused while the hold lasts
    with Service(Settings()) as svc, svc.db.session() as s:
        later = datetime.now(UTC) + timedelta(days=3650)
        assert svc.vault.apply_retention(s, now=datetime.now(UTC) + timedelta(days=30)) == []
        assert evidence_repo.active_holds(s, ref=ref, now=later) == []
    assert run("evidence", "delete", ref, "--reason", "x", "--yes").exit_code == 2

    out = tmp_path / "export.zip"
    r = run("evidence", "export", ref, "--out", str(out), "--purpose", "CyberTipline report 1")
    assert r.exit_code == 0, r.output
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as z:
        assert any(z.read(n) == photo for n in z.namelist())
    assert run("evidence", "verify").exit_code == 0

    assert run("evidence", "release", str(hold_id), "--reason", "order lifted").exit_code == 0
    assert run("evidence", "delete", ref, "--reason", "purpose ended", "--yes").exit_code == 0
    with Service(Settings()) as svc, svc.db.session() as s:
        assert evidence_repo.get_item(s, ref=ref) is None
        tomb = evidence_repo.get_tombstone(s, ref=ref)
        assert tomb is not None and tomb.sha256
        assert svc.audit.verify_chain(s).ok
