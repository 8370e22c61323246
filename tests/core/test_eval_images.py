"""`amparo eval images`: metrics per label and detector, positive paths injected with stand-ins."""

from __future__ import annotations

import json

import pytest
from standins import install_standins
from typer.testing import CliRunner

from amparo.errors import BadInput
from amparo.evaluation.images import read_labels, run_eval


def test_eval_with_injected_detectors(sqlite_service, shared_data, tmp_path) -> None:
    service = sqlite_service
    dets = install_standins(service)
    d = shared_data / "pdq" / "bridge-mods"
    a, b, c, e = (d / n for n in ("aaa-orig.jpg", "blur-a-lot.jpg", "high-contrast.jpg", "shrink-a-lot.jpg"))
    dets["nudity"].set(a.read_bytes(), nudity=0.9)
    dets["faces_age"].set(a.read_bytes(), faces=1, min_age=9, minor=0.9)  # truth csam_suspected: found
    dets["nudity"].set(b.read_bytes(), nudity=0.95)
    dets["faces_age"].set(b.read_bytes(), faces=1, min_age=40, minor=0.01)  # truth csam_suspected: missed
    dets["nudity"].set(c.read_bytes(), nudity=0.9)
    dets["faces_age"].set(c.read_bytes(), faces=1, min_age=30, minor=0.01)  # adult_explicit, correct
    labels = tmp_path / "labels.csv"
    labels.write_text(f"path,label\n{a},csam_suspected\n{b},csam_suspected\n{c},adult_explicit\n{e},benign\n")
    out = run_eval(service.pipeline, read_labels(labels.read_text(), fmt="csv", base=tmp_path))
    per = out["labels"]["per_label"]
    assert per["csam_suspected"]["recall"] == 0.5 and per["csam_suspected"]["precision"] == 1.0
    assert per["adult_explicit"]["fp"] == 1  # the missed minor became adult_explicit
    assert out["labels"]["confusion"]["csam_suspected"]["adult_explicit"] == 1
    assert out["labels"]["accuracy"] == 0.75
    assert out["detectors"]["nudity"]["per_label"]["nudity"]["recall"] == 1.0
    assert out["detectors"]["minor"]["per_label"]["minor"]["recall"] == 0.5


def test_bad_labels_file(tmp_path) -> None:
    with pytest.raises(BadInput, match="unknown label"):
        read_labels("path,label\nx.jpg,evil\n", fmt="csv", base=tmp_path)
    with pytest.raises(BadInput):
        read_labels("{not json\n", fmt="jsonl", base=tmp_path)


def test_cli_eval_images_on_benign_set(shared_data, tmp_path, monkeypatch) -> None:
    from amparo.cli.main import app

    monkeypatch.setenv("AMPARO_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("AMPARO_DETECTORS", "none")
    rows = [
        {"path": str(p), "label": "benign"} for p in sorted((shared_data / "pdq" / "bridge-mods").glob("*.jpg"))[:4]
    ]
    f = tmp_path / "labels.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows))
    r = CliRunner().invoke(app, ["eval", "images", "--labels", str(f), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["evaluated"] == 4 and out["labels"]["accuracy"] == 1.0
