"""`amparo scan` on a folder with videos: a known clip inside a longer benign video is matched on its
frames (both shares, the time range), an unrelated video and an image are clean; --full checks
videos through the pipeline."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner
from video_samples import BENIGN_SCENE, known_clip, long_upload, make_video

from amparo.banks.management import Acting
from amparo.banks.videos import bank_video_file
from amparo.store import banks_repo


def test_scan_matches_a_known_clip_inside_a_video(tmp_path: Path, monkeypatch, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    from amparo.cli.main import app
    from amparo.service import Service
    from amparo.settings import Settings

    monkeypatch.setenv("AMPARO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AMPARO_DETECTORS", "none")
    with Service(Settings()) as svc:
        with svc.db.session() as s:
            banks_repo.create_bank(s, name="known", category="csam")
        bank_video_file(svc.db, svc.settings, Acting(svc.audit, "test", "admin"), bank="known", data=known_clip())
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "upload.mp4").write_bytes(long_upload(40, 20))
    (folder / "other.webm").write_bytes(
        make_video(6, scene=BENIGN_SCENE + 20, fps=5, codec="libvpx-vp9", container="webm")
    )
    (folder / "photo.jpg").write_bytes((shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes())
    (folder / "notes.txt").write_text("not media")
    r = CliRunner().invoke(app, ["scan", str(folder), "--workers", "1", "--no-progress", "--json"])
    assert r.exit_code == 1, r.output  # a csam match
    rows = {Path(x["path"]).name: x for x in map(json.loads, r.stdout.strip().splitlines())}
    assert sorted(rows) == ["other.webm", "photo.jpg", "upload.mp4"]
    up = rows["upload.mp4"]
    assert up["status"] == "hashed" and up["signals"]["kind"] == "video" and len(up["signals"]["vpdq"]) == 40
    (m,) = up["matches"]
    assert m["bank"] == "known" and m["signal_type"] == "vpdq" and m["video"]["banked_share"] >= 0.8
    assert [list(x) for x in m["video"]["query_ranges"]] == [[20.0, 29.0]]
    assert rows["other.webm"]["matches"] == [] and rows["photo.jpg"]["signals"]["pdq"]
    r = CliRunner().invoke(app, ["scan", str(folder / "upload.mp4"), "--full", "--workers", "1", "--no-progress"])
    (line,) = [json.loads(x) for x in r.stdout.strip().splitlines()]
    assert line["status"] == "checked" and line["decision"] == "block", line
    assert any(x["signal_type"] == "vpdq" for x in line["matches"])
