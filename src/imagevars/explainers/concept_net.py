"""The network as concept explanations need it: a PyTorch module, its input, and a layer to read and differentiate.

ACE and TCAV read a network's activations at one layer for many image patches and differentiate
a class logit with respect to them, so they need the network in PyTorch. :func:`concept_network`
builds a :class:`ConceptNet` from:

- the bundled ``efficientnet-lite0`` (its ONNX weights read into the PyTorch definition of
  :mod:`imagevars.models.efficientnet_torch`), or an EfficientNet-Lite ONNX file fine-tuned by
  ``imagevars learn --finetune`` (a folder holding ``model.onnx``);
- a measure learned by ``imagevars learn`` on ``efficientnet-lite0`` features (a linear probe):
  the backbone in PyTorch, the features standardised, the measure's first head as the logits;
- an imagevars classifier: a registered one (``mnist-cnn``), a folder written by ``imagevars
  train``, or a :class:`~imagevars.train.classifier.Classifier` object;
- any ``torch.nn.Module`` returning logits, with ``ConceptNet(module, side, labels, ...)``.

Layers are named as ``module.named_modules()`` names them; ``layer="auto"`` takes, among whole
stages (the network's own children and the items of its ``nn.Sequential`` containers), the last
(N, C, H, W) output at a larger spatial size than the network's final map: the end of the
second-to-last resolution stage (EfficientNet-Lite0: ``blocks.10``, 14 x 14 x 112; the
lecture's CNN: its first pooling). Later layers, followed only by pooling and a linear head,
give every image the same gradient, and TCAV scores of only 0 or 1 (the paper read GoogLeNet's
14 x 14 ``mixed4c`` for the same reason).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class ConceptNet:
    """A PyTorch classifier with its input preparation (module docstring).

    Args:
        module: maps a float (N, C, side, side) batch to class logits.
        side: the input's height and width.
        labels: the class names, in the logits' order.
        channels: 3 (RGB) or 1 (greyscale: ITU-R 601 luma).
        scale, mean, std: the input is ``(pixels * scale - mean) / std``, per channel.
        name: what the provenance calls the model.
    """

    def __init__(
        self,
        module,
        side: int,
        labels: Sequence[str],
        channels: int = 3,
        scale: float = 1 / 255,
        mean: Sequence[float] = (0.0,),
        std: Sequence[float] = (1.0,),
        name: str = "model",
    ):
        self.module = module.eval()
        self.side, self.labels, self.channels = int(side), [str(v) for v in labels], int(channels)
        self.scale, self.mean, self.std, self.name = float(scale), tuple(mean), tuple(std), name

    @property
    def fill(self) -> np.ndarray:
        """The pixel value that the network sees as its input mean (what ACE pads segments with), RGB uint8."""
        mean = np.broadcast_to(np.asarray(self.mean, np.float64), (3,))
        return np.clip(np.round(mean / self.scale), 0, 255).astype(np.uint8)

    def prepare(self, images: Sequence[np.ndarray]):
        """RGB uint8 images (any size) -> the float (N, C, side, side) tensor the module takes (bilinear resize)."""
        import cv2
        import torch

        out = np.empty((len(images), self.side, self.side, self.channels), np.float32)
        for i, rgb in enumerate(images):
            img = cv2.resize(np.ascontiguousarray(rgb), (self.side, self.side), interpolation=cv2.INTER_LINEAR)
            if self.channels == 1:
                img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None]
            out[i] = img
        x = torch.from_numpy(out).permute(0, 3, 1, 2) * self.scale
        mean = torch.tensor(self.mean, dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32).view(1, -1, 1, 1)
        return (x - mean) / std

    def target_index(self, target: str | int) -> int:
        """The logit index of a class given by name or index; a clear error naming the classes otherwise."""
        if isinstance(target, (int, np.integer)) and 0 <= int(target) < len(self.labels):
            return int(target)
        if str(target) in self.labels:
            return self.labels.index(str(target))
        shown = ", ".join(self.labels[:12]) + (" ..." if len(self.labels) > 12 else "")
        raise ValueError(
            f"class {target!r} is not one of the model's {len(self.labels)} classes ({shown}); "
            "pass a class name exactly as the model labels it, or its index"
        )

    def resolve_layer(self, layer: str = "auto") -> str:
        """The named layer to read (``auto``: the module docstring's rule), checked to exist."""
        import torch
        from torch import nn

        names = dict(self.module.named_modules())
        if layer != "auto":
            if layer not in names or layer == "":
                candidates = [n for n in names if n][-8:]
                raise ValueError(
                    f"layer {layer!r} is not in the network; its last layers are {', '.join(candidates)} "
                    "(names as module.named_modules() gives them), or use layer='auto'"
                )
            return layer
        shapes: dict[str, tuple] = {}
        stages = [n for n in names if n and ("." not in n or isinstance(names[n.rsplit(".", 1)[0]], nn.Sequential))]
        hooks = [
            names[n].register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape))) for n in stages
        ]  # whole stages: the network's own children, or the items of a Sequential
        try:
            with torch.no_grad():
                self.module(self.prepare([np.zeros((self.side, self.side, 3), np.uint8)]))
        finally:
            for h in hooks:
                h.remove()
        maps = [(n, s) for n, s in shapes.items() if len(s) == 4 and s[2] >= 2 and s[3] >= 2]
        if not maps:
            raise ValueError("the network has no layer with a (N, C, H, W) output to read concepts from; name one")
        last = maps[-1][1][2] * maps[-1][1][3]
        before = [n for n, s in maps if s[2] * s[3] > last]  # the last map before the final downsampling
        return before[-1] if before else maps[0][0]


def concept_network(model) -> ConceptNet:
    """A :class:`ConceptNet` from a model name, folder, classifier, or a ConceptNet itself (module docstring)."""
    if isinstance(model, ConceptNet):
        return model
    from .._extras import require

    require("torch", "concept explanations")
    from ..train.classifier import Classifier

    if isinstance(model, Classifier):
        return _from_classifier(model)
    name = os.fspath(model) if isinstance(model, (str, os.PathLike)) else None
    if name is None:
        raise TypeError(
            f"cannot explain a {type(model).__name__}: pass a model name, a model folder, an imagevars "
            "Classifier or imagevars.explainers.concept_net.ConceptNet(module, side, labels)"
        )
    if name == "efficientnet-lite0" or (Path(name).is_dir() and (Path(name) / "model.onnx").exists()):
        return _efficientnet(name)
    from ..models.linear_probe import is_measure

    if Path(name).is_dir() and is_measure(name):
        return _probe(name)
    from ..models.registry import get_card, list_models

    if name in list_models() and get_card(name).config.get("format") == "onnx":
        raise ValueError(
            f"{name} exists only as an ONNX graph, which gives no gradients: concept explanations need "
            "a PyTorch network (efficientnet-lite0, mnist-cnn, a folder from imagevars train, or a ConceptNet)"
        )
    from ..train.loading import open_classifier

    return _from_classifier(open_classifier(name))


def _from_classifier(clf) -> ConceptNet:
    from .network import explainable

    h, w, c = clf.card.input_size
    if h != w:
        raise ValueError(f"{clf.card.name} takes {h}x{w} images; concept explanations need square inputs")
    return ConceptNet(
        explainable(clf.module, "logit"), h, clf.labels, c, clf.card.scale, clf.card.mean, clf.card.std, clf.card.name
    )


def _efficientnet(name: str) -> ConceptNet:
    from ..models.efficientnet import EFFICIENTNET_LITE0
    from ..models.efficientnet_torch import from_onnx

    card = EFFICIENTNET_LITE0
    if name == "efficientnet-lite0":
        return ConceptNet(from_onnx(), 224, card.labels, 3, card.scale, card.mean, card.std, card.name)
    import json

    folder = Path(name)
    labels = json.loads((folder / "card.json").read_text()).get("labels") if (folder / "card.json").exists() else None
    net = from_onnx(folder / "model.onnx")
    labels = labels or [str(i) for i in range(net.fc.out_features)]
    return ConceptNet(net, 224, labels, 3, card.scale, card.mean, card.std, f"efficientnet-lite0 fine-tuned ({folder})")


def _probe(folder: str) -> ConceptNet:
    """A measure learned by ``imagevars learn`` on EfficientNet-Lite0 features: the PyTorch backbone, the
    features standardised as the measure does, its first head as the logits (two classes: -z/2 and z/2, so
    that both classes' logits move; a number: itself)."""
    import torch
    from torch import nn

    from ..models.efficientnet import EFFICIENTNET_LITE0
    from ..models.efficientnet_torch import from_onnx
    from ..models.linear_probe import load

    card, heads = load(folder)
    backbone = str(card.config.get("backbone", ""))
    if backbone != "efficientnet-lite0":
        raise ValueError(
            f"{folder} is a measure on {backbone or 'an unknown backbone'}; concept explanations of a "
            "measure need its backbone in PyTorch, which imagevars has for efficientnet-lite0 only"
        )
    head = heads[0]

    class Measure(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = from_onnx()
            self.register_buffer("mean", torch.tensor(head.mean, dtype=torch.float32))
            self.register_buffer("scale", torch.tensor(head.scale, dtype=torch.float32))
            self.head = nn.Linear(head.coef.shape[1], head.coef.shape[0])
            with torch.no_grad():
                self.head.weight.copy_(torch.tensor(head.coef, dtype=torch.float32))
                self.head.bias.copy_(torch.tensor(head.intercept, dtype=torch.float32))

        def forward(self, x):
            z = self.head((self.backbone.features(x) - self.mean) / self.scale)
            return torch.cat([-z / 2, z / 2], 1) if head.kind != "number" and z.shape[1] == 1 else z

    labels = list(head.classes) if head.kind != "number" else [head.target]
    c = EFFICIENTNET_LITE0
    return ConceptNet(Measure(), 224, labels, 3, c.scale, c.mean, c.std, f"{card.name} (measure of {head.target})")
