"""ONNX export of imagevars' convnets, built layer by layer with ``onnx.helper``.

Every network imagevars trains is a plain stack of Keras-style layers (``keras_layers()``:
Conv2D, MaxPooling2D, Flatten, Dropout, Dense, each with its activation), so the ONNX graph is
written directly from that list: Conv/MaxPool/Flatten/Gemm nodes with the weights as
initializers, ReLU and Softmax as the activations say, dropout left out (inference). This
takes milliseconds, gives the same bytes for the same weights, and does not depend on the
tracing exporter of the PyTorch version at hand. :func:`check_onnx` compares ONNX Runtime
against PyTorch after every export.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .._extras import require
from .._version import __version__
from ..io.files import atomic_write

if TYPE_CHECKING:  # the type only: the classifier imports the saving code, which imports this module
    from .classifier import Classifier

OPSET = 17


def _input_sides(model: Classifier) -> dict[str, tuple[int, int]]:
    """Each layer's input height and width, from one forward pass (for "same" padding's explicit pads)."""
    h, w, c = model.card.input_size
    sides: dict[str, tuple[int, int]] = {}
    hooks = [
        layer.register_forward_hook(
            lambda _m, inp, _o, name=name: sides.__setitem__(
                name, tuple(inp[0].shape[-2:]) if inp[0].ndim == 4 else None
            )
        )
        for name, _, layer, _ in model.module.keras_layers()
    ]
    model.module.eval()
    try:
        with torch.no_grad():
            model.module.forward_reference(torch.zeros(1, c, h, w))
    finally:
        for hook in hooks:
            hook.remove()
    return sides


def _same_pads(side: tuple[int, int], kernel, stride) -> list[int]:
    """ONNX pads (top, left, bottom, right) for TensorFlow's "same" on an input of ``side``."""
    begin, end = [], []
    for size, k, s in zip(side, kernel, stride):
        total = max((-(-size // s) - 1) * s + k - size, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return begin + end


def _activation_nodes(helper, kind: str, current: str, prefix: str) -> tuple[list, str]:
    """Nodes computing an activation of ``current``; (nodes, output name)."""
    out = f"{prefix}_{kind}"
    simple = {
        "relu": "Relu",
        "sigmoid": "Sigmoid",
        "tanh": "Tanh",
        "elu": "Elu",
        "selu": "Selu",
        "softplus": "Softplus",
    }
    if kind in simple:
        return [helper.make_node(simple[kind], [current], [out], name=out)], out
    if kind in ("swish", "silu"):
        return [
            helper.make_node("Sigmoid", [current], [f"{out}_s"]),
            helper.make_node("Mul", [current, f"{out}_s"], [out]),
        ], out
    if kind == "gelu":  # 0.5 x (1 + erf(x / sqrt 2)), PyTorch's exact GELU
        c = f"{out}_c"
        return [
            helper.make_node("Constant", [], [c], value_float=float(2**-0.5)),
            helper.make_node("Mul", [current, c], [f"{out}_a"]),
            helper.make_node("Erf", [f"{out}_a"], [f"{out}_e"]),
            helper.make_node("Constant", [], [f"{out}_one"], value_float=1.0),
            helper.make_node("Add", [f"{out}_e", f"{out}_one"], [f"{out}_b"]),
            helper.make_node("Mul", [current, f"{out}_b"], [f"{out}_m"]),
            helper.make_node("Constant", [], [f"{out}_half"], value_float=0.5),
            helper.make_node("Mul", [f"{out}_m", f"{out}_half"], [out]),
        ], out
    raise NotImplementedError(f"ONNX export of activation {kind!r}")


_MODULE_ACTIVATIONS = {
    "ReLU": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "ELU": "elu",
    "SELU": "selu",
    "Softplus": "softplus",
    "SiLU": "swish",
    "GELU": "gelu",
}
_IDENTITY = {"Dropout", "BitDropout", "Identity", "_RandomTransform"}  # at inference


def _layer_nodes(helper, weight, name: str, layer, side, current: str) -> tuple[list, str]:
    """The nodes of one layer (no activation); (nodes, output name)."""
    out = f"{name}_out"
    kind = type(layer).__name__
    if isinstance(layer, torch.nn.Conv2d):
        if layer.dilation != (1, 1) or layer.groups != 1:
            raise NotImplementedError(f"ONNX export of {name}: dilated or grouped convolutions are not written")
        pads = _same_pads(side, layer.kernel_size, layer.stride) if kind == "SameConv" else [*layer.padding] * 2
        inputs = [current, weight(f"{name}.weight", layer.weight)]
        if layer.bias is not None:
            inputs.append(weight(f"{name}.bias", layer.bias))
        return [
            helper.make_node(
                "Conv",
                inputs,
                [out],
                name=name,
                kernel_shape=list(layer.kernel_size),
                strides=list(layer.stride),
                pads=pads,
            )
        ], out
    if isinstance(layer, torch.nn.MaxPool2d):
        k = layer.kernel_size if isinstance(layer.kernel_size, tuple) else (layer.kernel_size,) * 2
        return [helper.make_node("MaxPool", [current], [out], name=name, kernel_shape=list(k), strides=list(k))], out
    if kind == "Pool2d":
        pads = _same_pads(side, layer.kernel_size, layer.stride) if layer.same else [0, 0, 0, 0]
        op = "MaxPool" if layer.mode == "max" else "AveragePool"
        return [
            helper.make_node(
                op,
                [current],
                [out],
                name=name,
                kernel_shape=list(layer.kernel_size),
                strides=list(layer.stride),
                pads=pads,
            )
        ], out
    if kind == "_GlobalAverage":
        return [
            helper.make_node("GlobalAveragePool", [current], [f"{out}_4d"], name=name),
            helper.make_node("Flatten", [f"{out}_4d"], [out], axis=1),
        ], out
    if isinstance(layer, torch.nn.Flatten):
        return [helper.make_node("Flatten", [current], [out], name=name, axis=1)], out
    if isinstance(layer, torch.nn.Linear):
        inputs = [current, weight(f"{name}.weight", layer.weight)]
        if layer.bias is not None:
            inputs.append(weight(f"{name}.bias", layer.bias))
        return [helper.make_node("Gemm", inputs, [out], name=name, transB=1)], out
    if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
        inputs = [
            current,
            weight(f"{name}.weight", layer.weight),
            weight(f"{name}.bias", layer.bias),
            weight(f"{name}.running_mean", layer.running_mean),
            weight(f"{name}.running_var", layer.running_var),
        ]
        return [helper.make_node("BatchNormalization", inputs, [out], name=name, epsilon=float(layer.eps))], out
    if kind == "_Rescale":
        return [
            helper.make_node("Constant", [], [f"{name}_scale"], value_float=layer.scale),
            helper.make_node("Constant", [], [f"{name}_offset"], value_float=layer.offset),
            helper.make_node("Mul", [current, f"{name}_scale"], [f"{out}_m"]),
            helper.make_node("Add", [f"{out}_m", f"{name}_offset"], [out], name=name),
        ], out
    if kind in _MODULE_ACTIVATIONS:
        return _activation_nodes(helper, _MODULE_ACTIVATIONS[kind], current, name)
    if kind in _IDENTITY:
        return [], current
    raise NotImplementedError(f"ONNX export of layer {name} ({kind}) is not supported")


def to_onnx(model: Classifier):
    """The classifier as an ``onnx.ModelProto``: input ``image`` (N, C, H, W) float, output ``probabilities``."""
    onnx = require("onnx", "ONNX export")
    from onnx import TensorProto, helper, numpy_helper

    h, w, c = model.card.input_size
    nodes, inits = [], []
    current = "image"

    def weight(name: str, t: torch.Tensor) -> str:
        inits.append(numpy_helper.from_array(t.detach().contiguous().numpy().astype(np.float32), name))
        return name

    sides = _input_sides(model)
    for name, _kind, layer, activation in model.module.keras_layers():
        more, current = _layer_nodes(helper, weight, name, layer, sides.get(name), current)
        nodes += more
        if activation == "softmax":
            nodes.append(helper.make_node("Softmax", [current], ["probabilities"], name=f"{name}_softmax", axis=1))
            current = "probabilities"
        elif activation is not None:
            more, current = _activation_nodes(helper, activation, current, name)
            nodes += more
    if current != "probabilities":
        nodes.append(helper.make_node("Softmax", [current], ["probabilities"], name="softmax", axis=1))
    k = len(model.labels)
    graph = helper.make_graph(
        nodes,
        model.card.name,
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", c, h, w])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", k])],
        initializer=inits,
    )
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="imagevars", producer_version=__version__
    )
    proto.ir_version = 8  # readable by every ONNX Runtime since 1.10
    helper.set_model_props(
        proto,
        {
            "labels": ",".join(model.labels),
            "scale": repr(model.card.scale),
            "mean": ",".join(map(repr, model.card.mean)),
            "std": ",".join(map(repr, model.card.std)),
        },
    )
    onnx.checker.check_model(proto)
    return proto


def export_onnx(model: Classifier, path: str | os.PathLike, *, check: bool = True, atol: float = 1e-5) -> Path:
    """Write the classifier as ONNX (softmax included, dynamic batch) and check it against torch.

    The check runs 16 random images through ONNX Runtime and PyTorch and raises if any
    probability differs by more than ``atol``.

    Example:
        >>> import imagevars, tempfile, os
        >>> path = export_onnx(imagevars.create_model("mnist-cnn"), os.path.join(tempfile.mkdtemp(), "m.onnx"))
        >>> path.suffix
        '.onnx'
    """
    body = to_onnx(model).SerializeToString()
    path = atomic_write(path, lambda tmp: Path(tmp).write_bytes(body))
    if check:
        max_diff = check_onnx(model, path)
        if max_diff > atol:
            raise RuntimeError(f"ONNX export {path} differs from torch by {max_diff:.2e} (> {atol:.0e})")
    return path


def check_onnx(model: Classifier, path: str | os.PathLike, n: int = 16, seed: int = 0) -> float:
    """Largest absolute difference between ONNX Runtime's and torch's probabilities on random images."""
    ort = require("onnxruntime", "checking an ONNX export")
    h, w, c = model.card.input_size
    x = np.random.default_rng(seed).random((n, c, h, w), dtype=np.float32)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(os.fspath(path), options, providers=["CPUExecutionProvider"])
    got = session.run(None, {"image": x})[0]
    model.module.eval()
    with torch.no_grad():
        want = torch.softmax(model.module.forward_reference(torch.from_numpy(x)), 1).numpy()
    return float(np.abs(got - want).max())
