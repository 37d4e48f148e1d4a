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

import numpy as np
import torch

from typing import TYPE_CHECKING

from .._extras import require
from .._version import __version__
from ..io.files import atomic_write

if TYPE_CHECKING:  # the type only: the classifier imports the saving code, which imports this module
    from .classifier import Classifier

OPSET = 17


def to_onnx(model: "Classifier"):
    """The classifier as an ``onnx.ModelProto``: input ``image`` (N, C, H, W) float, output ``probabilities``."""
    onnx = require("onnx", "ONNX export")
    from onnx import TensorProto, helper, numpy_helper

    h, w, c = model.card.input_size
    nodes, inits = [], []
    current = "image"

    def weight(name: str, t: torch.Tensor) -> str:
        inits.append(numpy_helper.from_array(t.detach().contiguous().numpy().astype(np.float32), name))
        return name

    for name, kind, layer, activation in model.module.keras_layers():
        out = f"{name}_out"
        if kind == "Conv2D":
            if layer.stride != (1, 1) or layer.padding != (0, 0) or layer.dilation != (1, 1) or layer.groups != 1:
                raise NotImplementedError(f"ONNX export of {name}: only stride-1, unpadded convolutions are written")
            nodes.append(helper.make_node(
                "Conv", [current, weight(f"{name}.weight", layer.weight), weight(f"{name}.bias", layer.bias)], [out],
                name=name, kernel_shape=list(layer.kernel_size)))
        elif kind == "MaxPooling2D":
            k = layer.kernel_size if isinstance(layer.kernel_size, tuple) else (layer.kernel_size,) * 2
            nodes.append(helper.make_node("MaxPool", [current], [out], name=name, kernel_shape=list(k), strides=list(k)))
        elif kind == "Flatten":
            nodes.append(helper.make_node("Flatten", [current], [out], name=name, axis=1))
        elif kind == "Dropout":
            continue  # identity at inference
        elif kind == "Dense":
            nodes.append(helper.make_node(
                "Gemm", [current, weight(f"{name}.weight", layer.weight), weight(f"{name}.bias", layer.bias)], [out],
                name=name, transB=1))
        else:
            raise NotImplementedError(f"ONNX export of layer {name} ({kind}) is not supported")
        current = out
        if activation == "relu":
            nodes.append(helper.make_node("Relu", [current], [f"{name}_relu"], name=f"{name}_relu"))
            current = f"{name}_relu"
        elif activation == "softmax":
            nodes.append(helper.make_node("Softmax", [current], ["probabilities"], name=f"{name}_softmax", axis=1))
            current = "probabilities"
        elif activation is not None:
            raise NotImplementedError(f"ONNX export of activation {activation!r}")
    if current != "probabilities":
        nodes.append(helper.make_node("Softmax", [current], ["probabilities"], name="softmax", axis=1))
    k = len(model.labels)
    graph = helper.make_graph(
        nodes, model.card.name,
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", c, h, w])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", k])],
        initializer=inits,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="imagevars",
                              producer_version=__version__)
    proto.ir_version = 8  # readable by every ONNX Runtime since 1.10
    helper.set_model_props(proto, {"labels": ",".join(model.labels), "scale": repr(model.card.scale),
                                   "mean": ",".join(map(repr, model.card.mean)), "std": ",".join(map(repr, model.card.std))})
    onnx.checker.check_model(proto)
    return proto


def export_onnx(model: "Classifier", path: str | os.PathLike, *, check: bool = True, atol: float = 1e-5) -> Path:
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


def check_onnx(model: "Classifier", path: str | os.PathLike, n: int = 16, seed: int = 0) -> float:
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
