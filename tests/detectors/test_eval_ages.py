"""`amparo eval ages`, its metrics and the calibration it fits; `amparo check --stage faces_age`.

The images are benign sample photos; their age labels here are made up to exercise the
arithmetic (the figures that matter come from bench/ages_data.py's public set)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from amparo.cli.main import app
from amparo.errors import BadInput, ConfigurationError
from amparo.evaluation.ages import AgeLabel, parse_age, read_age_labels, roc_auc, threshold_for_recall
from amparo.signals.classifiers.age_calibration import (
    AgeCalibration,
    fit_calibration,
    isotonic_fit,
    platt_fit,
)

from .sample_images import encode, skimage_rgb


def test_age_labels_and_groups(tmp_path: Path) -> None:
    assert parse_age("17") == (17, 17) and parse_age("20-29") == (20, 29) and parse_age("70+") == (70, 120)
    for bad in ("x", "-3", "30-20", "200"):
        with pytest.raises(BadInput):
            parse_age(bad)
    assert AgeLabel("a", 15, 15).group == "13-17" and AgeLabel("a", 12.5, 12.5).group == "12.5"
    assert AgeLabel("a", 3, 9).group == "3-9" and AgeLabel("a", 70, 120).group == "70+"
    assert AgeLabel("a", 80, 80).group == "61+"
    assert AgeLabel("a", 3, 9).is_minor is True and AgeLabel("a", 10, 19).is_minor is None
    assert AgeLabel("a", 20, 29).error(25) == 0 and AgeLabel("a", 20, 29).error(17) == -3
    rows = read_age_labels("path,age,split\nx.jpg,5,calibrate\ny.jpg,40,evaluate\n", fmt="csv", base=tmp_path)
    assert [r.path for r in rows] == [str(tmp_path / "x.jpg"), str(tmp_path / "y.jpg")]
    only = read_age_labels('{"path": "z.jpg", "age": "3-9", "split": "e"}\n', fmt="jsonl", base=tmp_path, split="e")
    assert only[0].low == 3 and only[0].high == 9
    with pytest.raises(BadInput, match="needs path and age"):
        read_age_labels("path,age\nx.jpg,\n", fmt="csv", base=tmp_path)
    with pytest.raises(BadInput, match="no labelled rows"):
        read_age_labels("path,age,split\nx.jpg,5,a\n", fmt="csv", base=tmp_path, split="b")


def test_auc_and_thresholds() -> None:
    assert roc_auc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert roc_auc([0.1, 0.2, 0.9, 0.8], [True, True, False, False]) == 0.0
    assert roc_auc([0.5, 0.5], [True, False]) == 0.5
    assert roc_auc([0.5], [True]) is None
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    assert threshold_for_recall(scores, 0.95) == 0.05  # 10 of 10
    assert threshold_for_recall(scores, 0.8) == 0.2  # 8 of 10


def test_calibration_fits_are_monotone_and_validated() -> None:
    rng = np.random.default_rng(3)
    raw = rng.uniform(0, 1, 400)
    truth = rng.uniform(0, 1, 400) < raw**2  # the raw score overstates the share of minors
    knots, values = isotonic_fit(raw, truth)
    assert all(b >= a for a, b in zip(values, values[1:], strict=False))
    slope, intercept = platt_fit(raw, truth)
    assert slope > 0
    errors = list(rng.normal(0, 6, 400))
    cal = fit_calibration(raw, truth, errors, [3.0] * 400, fitted_on="synthetic")
    assert cal.p_minor(0.5) < 0.45 and cal.p_minor(0.0) < cal.p_minor(0.5) < cal.p_minor(1.0)
    # |N(0, 6)| has its 80th percentile near 7.7 years; sigma 3 -> scale ~2.0
    assert 1.7 < cal.interval_scale < 2.3
    ranged = fit_calibration(raw, truth, [None] * 400, [3.0] * 400, fitted_on="ranges", method="isotonic")
    assert ranged.interval_scale == 1.0
    again = AgeCalibration.from_dict(cal.to_dict())
    assert AgeCalibration.from_dict(again.to_dict()) == again and abs(again.p_minor(0.3) - cal.p_minor(0.3)) < 1e-4
    with pytest.raises(ValueError, match="minors and adults"):
        fit_calibration(raw, [True] * 400, errors, [3.0] * 400, fitted_on="x")
    with pytest.raises(ConfigurationError, match="non-decreasing"):
        AgeCalibration(raw=(0.0, 0.5, 1.0), calibrated=(0.0, 0.6, 0.4))
    with pytest.raises(ConfigurationError):
        AgeCalibration.load(Path("/nonexistent/cal.json"))


def test_shipped_calibration_loads_and_says_what_it_was_fitted_on() -> None:
    cal = AgeCalibration.load()
    assert cal.fitted_on and "FairFace" in cal.fitted_on and cal.n >= 100
    assert cal.p_minor(0.0) < 0.01 and cal.p_minor(1.0) > 0.99


def _labelled_set(tmp_path: Path, n: int, grey_minors: bool = False) -> Path:
    astronaut = Image.fromarray(skimage_rgb("astronaut"))
    rows = ["path,age,source,split"]
    for i in range(n):
        # small shifts and crops give distinct images; the ages are invented (with `grey_minors`
        # the "minors" are grey copies, something a head on the descriptor can learn)
        img = astronaut.crop((i, i, 512 - (i % 5), 512 - (i % 3)))
        if grey_minors and i % 3 == 0:
            img = img.convert("L").convert("RGB")
        name = f"face{i:02d}.png"
        img.save(tmp_path / name)
        rows.append(f"{name},{5 if i % 3 == 0 else 40},demo,{'calibrate' if i % 2 else 'evaluate'}")
    (tmp_path / "coffee.png").write_bytes(encode(skimage_rgb("coffee")))
    rows.append("coffee.png,30,other,evaluate")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    return tmp_path / "labels.csv"


@pytest.fixture
def labelled_set(tmp_path: Path) -> Path:
    return _labelled_set(tmp_path, 24)


def test_eval_ages_cli_reports_and_fits(labelled_set: Path, tmp_path: Path) -> None:
    out = tmp_path / "fitted.json"
    args = ["eval", "ages", str(labelled_set), "--json", "--no-descriptor", "--fit-calibration", str(out)]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["models"] == ["dlib-age-v1"]
    assert rep["images"] == 25 and rep["errors"] == []
    everything = rep["report"]["all"]
    assert everything["faces"] == 24 and everything["no_face"] == 1
    assert rep["report"]["other"]["no_face"] == 1
    kids = everything["groups"]["0-12"]
    assert kids["n"] == 8 and kids["bias"] > 10  # an adult face labelled 5: estimated far older
    assert everything["n_minor"] == 8 and everything["n_adult"] == 16
    assert set(everything["operating_points"]) == {"minors_95", "minors_99", "under13_99"}
    assert everything["coverage_80"]["n_exact"] == 24
    assert everything["calibration_table"] and everything["auc_minor_vs_adult"] is not None
    fitted = AgeCalibration.load(out)
    assert fitted.fitted_on == "labels.csv" and fitted.n == 24
    assert fitted.models == ("dlib-age-v1",) and fitted.minor_head is None
    # evaluating with the fitted calibration on one split
    r = CliRunner().invoke(app, ["eval", "ages", str(labelled_set), "--split", "calibrate", "--calibration", str(out)])
    assert r.exit_code == 0, r.output
    assert "calibration: labels.csv" in r.stdout and "ROC-AUC" in r.stdout


def test_eval_ages_fits_a_minor_head_on_the_face_descriptor(tmp_path: Path) -> None:
    labels, out = _labelled_set(tmp_path, 44, grey_minors=True), tmp_path / "head.json"
    r = CliRunner().invoke(app, ["eval", "ages", str(labels), "--json", "--fit-calibration", str(out)])
    assert r.exit_code == 0, r.output
    fitted = AgeCalibration.load(out)
    assert fitted.models == ("dlib-age-v1", "dlib-face-descriptor-v1") and fitted.n == 44
    assert fitted.minor_head is not None and len(fitted.minor_head.weights) == 130
    # the same faces, read through the fitted head: every figure is computed, nothing fails
    r = CliRunner().invoke(app, ["eval", "ages", str(labels), "--json", "--calibration", str(out)])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["models"] == ["dlib-age-v1", "dlib-face-descriptor-v1"]
    assert rep["report"]["all"]["faces"] == 44 and rep["report"]["all"]["auc_minor_vs_adult"] > 0.9
    # a head-bearing calibration cannot run without the descriptor
    r = CliRunner().invoke(app, ["eval", "ages", str(labels), "--no-descriptor", "--calibration", str(out)])
    assert r.exit_code == 2 and "face descriptor" in r.output


def test_eval_ages_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("path,age\nx.jpg,old\n")
    r = CliRunner().invoke(app, ["eval", "ages", str(bad)])
    assert r.exit_code == 2 and "age 'old'" in r.output
    missing = tmp_path / "missing.csv"
    missing.write_text("path,age\nnothere.jpg,30\n")
    r = CliRunner().invoke(app, ["eval", "ages", str(missing), "--json"])
    assert r.exit_code == 2 and json.loads(r.stdout)["errors"][0]["path"].endswith("nothere.jpg")


def test_check_stage_flag_runs_the_age_stage_regardless_of_nudity(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AMPARO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AMPARO_DETECTORS", "default")
    photo = tmp_path / "astronaut.png"
    photo.write_bytes(encode(skimage_rgb("astronaut")))
    plain = CliRunner().invoke(app, ["check", str(photo), "--json", "--no-record"])
    assert plain.exit_code == 0, plain.output
    stages = {s["stage"]: s for s in json.loads(plain.stdout)["stages"]}
    assert stages["faces_age"]["ran"] is False  # benign: the cascade skips the age stage
    forced = CliRunner().invoke(app, ["check", str(photo), "--json", "--no-record", "--stage", "faces_age"])
    assert forced.exit_code == 0, forced.output
    v = json.loads(forced.stdout)
    assert v["decision"] == "allow" and v["labels"] == []
    (faces,) = [c for c in v["classifications"] if c["stage"] == "faces_age"]
    (face,) = faces["details"]["faces"]
    assert face["minor"] is not True and face["p_minor"] < 0.3
    assert {"age", "age_low", "age_high", "p_minor", "quality", "models"} <= set(face)
    bad = CliRunner().invoke(app, ["check", str(photo), "--stage", "nudity"])
    assert bad.exit_code == 2 and "unknown stage" in bad.output
