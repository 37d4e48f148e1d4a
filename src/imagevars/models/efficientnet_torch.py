"""EfficientNet-Lite as a trainable PyTorch network, its weights read from the bundled ONNX graph.

The bundled ``efficientnet-lite0.onnx`` (see :mod:`imagevars.models.efficientnet`) is the
network's only copy of its weights. Fine-tuning needs the network in PyTorch, so this module
writes the architecture down (Tan & Le 2019, Lite variant: no squeeze-and-excitation, ReLU6, a
32-channel stem and a 1,280-channel head) and takes each convolution's weights from the ONNX
graph's initializers, in the graph's order, checking every shape. Batch normalisation was folded
into the convolutions by the export, so the network has none: each convolution has a bias.
Convolutions pad as TensorFlow's "same" does (more on the right and bottom when the total is
odd), as the original weights expect.

:func:`write_onnx` goes the other way: a copy of the bundled graph with the fine-tuned weights
and a new class head, so a fine-tuned model runs in ONNX Runtime exactly as the bundled one does.

Example:
    >>> net = from_onnx(num_classes=2)  # doctest: +SKIP
    >>> net(torch.zeros(1, 3, 224, 224)).shape  # doctest: +SKIP
    torch.Size([1, 2])
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

# (expansion, kernel, stride, channels in, channels out, repeats): EfficientNet-B0's stages, as Lite0 keeps them
STAGES = (
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
)
STEM, HEAD = 32, 1280


class SameConv(nn.Conv2d):
    """A convolution padded as TensorFlow's "same": output side ceil(input / stride)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(x.shape[-1:-3:-1], self.kernel_size[::-1], self.stride[::-1]):  # width, then height
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads) if any(pads) else x)


class Block(nn.Module):
    """An inverted residual block: 1x1 expansion (unless 1), depthwise k x k, 1x1 projection."""

    def __init__(self, expansion: int, kernel: int, stride: int, cin: int, cout: int):
        super().__init__()
        mid = cin * expansion
        self.expand = SameConv(cin, mid, 1) if expansion != 1 else None
        self.depthwise = SameConv(mid, mid, kernel, stride, groups=mid)
        self.project = SameConv(mid, cout, 1)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self.expand(x)) if self.expand is not None else x
        h = self.project(F.relu6(self.depthwise(h)))
        return h + x if self.residual else h


class EfficientNetLite(nn.Module):
    """Normalised (N, 3, H, W) images -> class logits; :meth:`features` gives the pooled 1,280 numbers."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2):
        super().__init__()
        self.stem = SameConv(3, STEM, 3, 2)
        blocks = []
        for expansion, kernel, stride, cin, cout, repeats in STAGES:
            for i in range(repeats):
                blocks.append(Block(expansion, kernel, stride if i == 0 else 1, cin if i == 0 else cout, cout))
        self.blocks = nn.Sequential(*blocks)
        self.head = SameConv(STAGES[-1][4], HEAD, 1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(HEAD, num_classes)

    def convolutions(self) -> list[nn.Conv2d]:
        """Every convolution in the order the network runs them (the ONNX graph's order)."""
        return [m for m in self.modules() if isinstance(m, nn.Conv2d)]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self.stem(x))
        h = F.relu6(self.head(self.blocks(h)))
        return h.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(x)))


def _graph(path: str | os.PathLike):
    """(model, the Conv nodes in order, the Gemm node, initializers by name) of an EfficientNet-Lite ONNX file."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    inits = {t.name: t for t in model.graph.initializer}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    gemm = [n for n in model.graph.node if n.op_type == "Gemm"]
    if len(gemm) != 1:
        raise ValueError(f"{path}: not an EfficientNet-Lite graph (it has {len(gemm)} fully connected layers, not 1)")
    return model, convs, gemm[0], inits, numpy_helper


def from_onnx(
    path: str | os.PathLike | None = None, num_classes: int | None = None, dropout: float = 0.2
) -> EfficientNetLite:
    """The network with the weights of the ONNX file (default: the bundled EfficientNet-Lite0, sha256 checked).

    ``num_classes`` other than the file's gives a new head (Glorot-uniform weights, zero bias, as
    Keras starts a Dense layer) on the pretrained features: the start of fine-tuning.
    """
    if path is None:
        from .efficientnet import EFFICIENTNET_LITE0
        from .weights import resolve_weights

        path = resolve_weights(EFFICIENTNET_LITE0)
    model, nodes, gemm, inits, numpy_helper = _graph(path)
    fc_w = numpy_helper.to_array(inits[gemm.input[1]])
    net = EfficientNetLite(num_classes or fc_w.shape[0], dropout)
    convs = net.convolutions()
    if len(nodes) != len(convs):
        raise ValueError(f"{path}: {len(nodes)} convolutions where EfficientNet-Lite0 has {len(convs)}")
    with torch.no_grad():
        for i, (node, conv) in enumerate(zip(nodes, convs)):
            for name, param in zip(node.input[1:3], (conv.weight, conv.bias)):
                value = numpy_helper.to_array(inits[name])
                if value.shape != tuple(param.shape):
                    raise ValueError(
                        f"{path}: convolution {i} has weights {value.shape}, the network {tuple(param.shape)}"
                    )
                param.copy_(torch.from_numpy(value.copy()))
        if num_classes in (None, fc_w.shape[0]):
            net.fc.weight.copy_(torch.from_numpy(fc_w.copy()))
            net.fc.bias.copy_(torch.from_numpy(numpy_helper.to_array(inits[gemm.input[2]]).copy()))
        else:
            nn.init.xavier_uniform_(net.fc.weight)
            nn.init.zeros_(net.fc.bias)
    return net.eval()


def write_onnx(net: EfficientNetLite, out: str | os.PathLike, template: str | os.PathLike | None = None) -> Path:
    """Write ``net`` as ONNX: the template graph (default the bundled one) with ``net``'s weights and head.

    Input ``image`` (N, 224, 224, 3) RGB 0-255; outputs ``probabilities`` (N, classes) and ``features``
    (N, 1,280), as the bundled model has.
    """
    from ..io.files import atomic_write

    if template is None:
        from .efficientnet import EFFICIENTNET_LITE0
        from .weights import resolve_weights

        template = resolve_weights(EFFICIENTNET_LITE0)
    model, nodes, gemm, inits, numpy_helper = _graph(template)
    tensors = {}
    for node, conv in zip(nodes, net.convolutions()):
        tensors[node.input[1]], tensors[node.input[2]] = conv.weight, conv.bias
    tensors[gemm.input[1]], tensors[gemm.input[2]] = net.fc.weight, net.fc.bias
    for name, value in tensors.items():
        inits[name].CopyFrom(numpy_helper.from_array(value.detach().cpu().numpy().astype(np.float32), name))
    for output in model.graph.output:  # the probabilities' class dimension follows the new head
        if output.name == "probabilities":
            output.type.tensor_type.shape.dim[1].dim_value = net.fc.out_features
    return atomic_write(Path(out), lambda tmp: Path(tmp).write_bytes(model.SerializeToString()))
