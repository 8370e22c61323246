"""Read a dlib DNN model file (a residual metric network such as dlib's face descriptor) and
build the same network as an ONNX graph, so ONNX Runtime runs it on one thread.

dlib's own CPU forward pass of the 29-layer face descriptor network takes ~120 ms a face on this
machine (its wheel is built without BLAS); ONNX Runtime runs the graph built here in ~6 ms, and
gives the same descriptor to ~1e-6 (tests/detectors/test_face_descriptor.py).

The file format is dlib's serialization (dlib/serialize.h, dlib/dnn/*.h): integers are a control
byte (length in the low bits, 0x80 for negative) and that many little-endian bytes; strings are
a length and bytes; tensors are a version, four dimensions and little-endian float32 values;
each layer's details start with its version string ("con_4", "affine_", "relu_", ...). A
network is written outside-in, each wrapper's version before its sub-network and each layer's
details after it, so the details appear in input-to-output order. We read the details records
in that order and rebuild the topology of dlib's residual networks from them:

- a block starts at the first convolution after the stem's max pool or after a block's output
  (an add followed by a relu), and its input is kept;
- an `avg_pool` inside a block pools that kept input (the shortcut of a down-sampling block);
- `add_prev` adds the block's output and its (possibly pooled) input. Like dlib, tensors of
  different sizes are added as if the smaller were zero-padded at the end of each axis
  (channels, rows, columns);
- `avg_pool` with a 0x0 window pools everything; `fc` is a bias-free matrix product.

Only the layer kinds such a network uses are read (no batch norm, no other activations), and
the records are found by their version strings, so a layer of another kind would go unseen:
callers convert only files whose sha256 they pin, and a test compares the result with dlib's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_KINDS = {
    "con_4": "con", "con_5": "con", "con_6": "con",
    "affine_": "affine", "affine_2": "affine",
    "relu_": "relu", "relu_2": "relu",
    "max_pool_2": "max_pool", "avg_pool_2": "avg_pool", "add_prev_": "add_prev",
    "fc_2": "fc", "fc_3": "fc",
}  # fmt: skip
_INPUT = "input_rgb_image_sized"


class DlibFormatError(ValueError):
    pass


@dataclass
class Layer:
    kind: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    window: tuple[int, int] = (0, 0)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)


@dataclass
class DlibNet:
    input_size: int
    means: tuple[float, float, float]  # RGB, subtracted before dividing by 256
    layers: list[Layer]


class _Reader:
    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf, self.pos = buf, pos

    def integer(self) -> int:
        control = self.buf[self.pos]
        size = control & 0x0F
        if size > 8:
            raise DlibFormatError(f"bad integer at byte {self.pos}")
        value = int.from_bytes(self.buf[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if control & 0x80 else value

    def string(self) -> str:
        n = self.integer()
        out = self.buf[self.pos : self.pos + n].decode("ascii")
        self.pos += n
        return out

    def real(self) -> float:  # dlib's portable float: mantissa and base-2 exponent
        mantissa = self.integer()
        return float(mantissa * 2.0 ** self.integer())

    def alias(self) -> tuple[int, ...]:
        if self.integer() != 1:
            raise DlibFormatError("unknown alias tensor version")
        return tuple(self.integer() for _ in range(4))

    def tensor(self) -> np.ndarray:
        if self.integer() != 2:
            raise DlibFormatError("unknown tensor version")
        dims = tuple(self.integer() for _ in range(4))
        n = int(np.prod(dims))
        out = np.frombuffer(self.buf, "<f4", n, self.pos).astype(np.float32).reshape(dims)
        self.pos += 4 * n
        return out


def _record(r: _Reader, kind: str) -> Layer:
    if kind == "con":
        params = r.tensor().reshape(-1)
        filters, rows, cols, sy, sx, py, px = (r.integer() for _ in range(7))
        shape, _ = r.alias(), r.alias()
        weights = params[: int(np.prod(shape))].reshape(shape)
        return Layer(
            "con",
            {"weights": weights, "bias": params[weights.size : weights.size + filters]},
            (rows, cols), (sy, sx), (py, px),
        )  # fmt: skip
    if kind == "affine":
        params = r.tensor().reshape(-1)
        channels = int(np.prod(r.alias()))
        return Layer("affine", {"gamma": params[:channels], "beta": params[channels : 2 * channels]})
    if kind in ("max_pool", "avg_pool"):
        rows, cols, sy, sx, py, px = (r.integer() for _ in range(6))
        return Layer(kind, {}, (rows, cols), (sy, sx), (py, px))
    if kind == "fc":
        outputs, inputs = r.integer(), r.integer()
        params = r.tensor().reshape(-1)
        return Layer("fc", {"weights": params[: inputs * outputs].reshape(inputs, outputs)})
    return Layer(kind)


def read_dlib_net(buf: bytes) -> DlibNet:
    """The input layer and every layer's details, input to output."""
    names = sorted([*_KINDS, _INPUT], key=len, reverse=True)
    pattern = re.compile(b"|".join(re.escape(bytes([1, len(n)]) + n.encode()) for n in names))
    size, means, layers = 0, (0.0, 0.0, 0.0), []
    for m in pattern.finditer(buf):
        r = _Reader(buf, m.start())
        name = r.string()
        if name == _INPUT:
            means = (r.real(), r.real(), r.real())
            size = r.integer()
            continue
        layers.append(_record(r, _KINDS[name]))
    if not size or not layers:
        raise DlibFormatError("not a dlib image network")
    return DlibNet(size, means, layers)


def to_onnx(net: DlibNet, output: str = "descriptor") -> bytes:
    """The network as a serialized ONNX model: input `images` (N, 3, size, size), RGB, already
    (pixel - means) / 256; one output, the last layer's values (N, features)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = []
    counter = [0]

    def fresh(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}_{counter[0]}"

    def const(values: np.ndarray, dtype: Any = np.float32) -> str:
        name = fresh("c")
        inits.append(numpy_helper.from_array(np.ascontiguousarray(values, dtype=dtype), name))
        return name

    def op(kind: str, inputs: list[str], **attrs: Any) -> str:
        out = fresh(kind.lower())
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def pad_to(value: str, have: tuple[int, int], want: tuple[int, int]) -> str:
        if have == want:
            return value
        grow = [0, 0, 0, 0, 0, want[0] - have[0], want[1] - have[1], want[1] - have[1]]  # ends of C, H, W
        return op("Pad", [value, const(np.array(grow), np.int64)])

    x, shape = "images", (3, net.input_size)  # (channels, side)
    block: tuple[str, tuple[int, int]] | None = None
    kinds = [layer.kind for layer in net.layers]
    for i, layer in enumerate(net.layers):
        if layer.kind == "con":
            if kinds[i - 1 : i] == ["max_pool"] or kinds[max(0, i - 2) : i] == ["add_prev", "relu"]:
                block = (x, shape)  # a residual block starts here
            w = layer.arrays["weights"]
            x = op("Conv", [x, const(w), const(layer.arrays["bias"])], kernel_shape=list(layer.window),
                   strides=list(layer.stride), pads=[*layer.padding, *layer.padding])  # fmt: skip
            shape = (w.shape[0], (shape[1] + 2 * layer.padding[0] - layer.window[0]) // layer.stride[0] + 1)
        elif layer.kind == "affine":
            c = len(layer.arrays["gamma"])
            x = op("Mul", [x, const(layer.arrays["gamma"].reshape(1, c, 1, 1))])
            x = op("Add", [x, const(layer.arrays["beta"].reshape(1, c, 1, 1))])
        elif layer.kind == "relu":
            x = op("Relu", [x])
        elif layer.kind == "max_pool":
            x = op("MaxPool", [x], kernel_shape=list(layer.window), strides=list(layer.stride),
                   pads=[*layer.padding, *layer.padding])  # fmt: skip
            shape = (shape[0], (shape[1] + 2 * layer.padding[0] - layer.window[0]) // layer.stride[0] + 1)
        elif layer.kind == "avg_pool" and layer.window == (0, 0):
            x = op("Flatten", [op("GlobalAveragePool", [x])])
        elif layer.kind == "avg_pool":
            if block is None:
                raise DlibFormatError("a pooled shortcut outside a residual block")
            value, (c, side) = block
            pooled = op("AveragePool", [value], kernel_shape=list(layer.window), strides=list(layer.stride))
            block = (pooled, (c, (side - layer.window[0]) // layer.stride[0] + 1))
        elif layer.kind == "add_prev":
            if block is None:
                raise DlibFormatError("an add outside a residual block")
            value, other = block
            want = (max(shape[0], other[0]), max(shape[1], other[1]))
            x = op("Add", [pad_to(x, shape, want), pad_to(value, other, want)])
            shape = want
        elif layer.kind == "fc":
            x = op("MatMul", [x, const(layer.arrays["weights"])])
        else:
            raise DlibFormatError(f"layer kind {layer.kind!r} is not supported")
    nodes[-1].output[0] = output
    graph = helper.make_graph(
        nodes,
        "dlib_net",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [None, 3, net.input_size, net.input_size])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return bytes(model.SerializeToString())
