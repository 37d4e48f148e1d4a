"""``imagevars.Sequential``: a network built layer by layer, as in Keras, that is a full imagevars classifier.

    model = imagevars.Sequential([layers.InputLayer(input_shape=(28, 28, 1)), ..., layers.Dense(10, activation="softmax")])
    model.summary(); model.compile(...); model.fit(train_X, train_Y, ...); model.save("my-net/")

The model is a :class:`~imagevars.train.classifier.Classifier`: the trainer, callbacks,
``evaluate``, ``predict``, saving (safetensors, and the layer list in the card, never a pickle),
ONNX export checked against PyTorch, and the explainers all work on it. Its classes are named
"0", "1", ... unless ``labels`` are given. The network returns logits: a final ``softmax`` is
applied by ``predict`` and folded into the loss in training, as Keras's does numerically.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..models.card import ModelCard
from .classifier import Classifier
from .layers import ACTIVATIONS, InputLayer, Layer, from_config

ARCHITECTURE = "sequential"


def _snake(name: str) -> str:
    """Keras's default layer names: ``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` -> ``max_pooling2d``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])(?=[a-z])", r"_\1", name).lower()


class SequentialNet(nn.Module):
    """The built stack: each layer a module named as Keras names it, activations applied after it."""

    def __init__(self, layer_list: Sequence[Layer], input_shape: tuple[int, int, int]):
        super().__init__()
        self.input_shape, self.rows = tuple(input_shape), []  # rows: (name, type, activation, output shape)
        shape, seen = tuple(input_shape), {}
        self.body = nn.ModuleDict()
        for layer in layer_list:
            base = _snake(layer.keras_type)
            count = seen.get(base, 0)
            seen[base] = count + 1
            name = layer.name or (base if count == 0 else f"{base}_{count}")
            module, shape = layer.build(shape, name)
            activation = layer.activation
            if isinstance(module, nn.Softmax):  # Activation("softmax"): kept as the row's activation
                module, activation = nn.Identity(), "softmax"
            self.body[name] = module
            self.rows.append((name, layer.keras_type, activation, shape))
        self.output_shape = shape
        last = self.rows[-1]
        if len(shape) != 1:
            raise ValueError(
                f"the last layer, {last[0]} ({last[1]}), gives {shape}: a classifier ends with "
                "Dense(number of classes, activation='softmax')"
            )
        self.activations = nn.ModuleDict(
            {name: ACTIVATIONS[act]() for name, _, act, _ in self.rows if act not in (None, "softmax")}
        )
        softmax_inside = [name for name, kind, act, _ in self.rows[:-1] if act == "softmax"]
        if softmax_inside:
            raise ValueError(f"{softmax_inside[0]}: softmax belongs on the last layer only")

    def keras_layers(self) -> list[tuple[str, str, nn.Module, str | None]]:
        """(name, Keras type, module, activation) in order: for summaries, ONNX export and explainers."""
        return [(name, kind, self.body[name], act) for name, kind, act, _ in self.rows]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name, _, _act, _ in self.rows:
            x = self.body[name](x)
            if name in self.activations:
                x = self.activations[name](x)
        return x  # logits: a last softmax is applied by predict and folded into the loss

    forward_reference = forward


def build(layer_list: Sequence[Layer], input_shape=None) -> SequentialNet:
    """The network for ``layer_list``; the input shape comes from its InputLayer or ``input_shape``."""
    layer_list = list(layer_list)
    if layer_list and isinstance(layer_list[0], InputLayer):
        input_shape, layer_list = layer_list[0].shape, layer_list[1:]
    if input_shape is None:
        raise ValueError("say the input's shape: start with layers.InputLayer(input_shape=(height, width, channels))")
    if not layer_list:
        raise ValueError("a Sequential model needs at least one layer after its input")
    return SequentialNet(layer_list, input_shape)


def Sequential(
    layers: Sequence[Layer],
    name: str = "sequential",
    labels: Sequence[str] | None = None,  # noqa: N802
    input_shape=None,
) -> Classifier:
    """A Keras-style model from a list of :mod:`imagevars.layers`, ready to ``compile`` and ``fit``.

    Example:
        >>> import imagevars
        >>> from imagevars import layers
        >>> model = imagevars.Sequential([layers.InputLayer(input_shape=(28, 28, 1)),
        ...                               layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        ...                               layers.MaxPooling2D(pool_size=(2, 2)), layers.Flatten(),
        ...                               layers.Dense(10, activation="softmax")])
        >>> model.count_params()
        54410
    """
    layers = list(layers)
    net = build(layers, input_shape)
    k = net.output_shape[0]
    labels = tuple(str(v) for v in (labels if labels is not None else range(k)))
    if len(labels) != k:
        raise ValueError(f"{len(labels)} labels for a last layer of {k} units")
    h, w, c = net.input_shape
    card = ModelCard(
        name=name,
        task="classify",
        labels=labels,
        input_size=(h, w, c),
        scale=1 / 255,
        architecture=ARCHITECTURE,
        config=config_of(layers, net.input_shape),
        description="a network built with imagevars.Sequential",
        license="",
        citation="",
    )
    return Classifier(net, card)


def config_of(layers: Sequence[Layer], input_shape) -> dict[str, Any]:
    """What the card keeps: the input shape and each layer's Keras config, enough to rebuild the network."""
    return {"input_shape": list(input_shape), "layers": [l.config() for l in layers if not isinstance(l, InputLayer)]}


def from_card_config(config: dict[str, Any]) -> SequentialNet:
    """The network a card's config describes (weights loaded separately)."""
    return build([from_config(item) for item in config["layers"]], tuple(config["input_shape"]))


def from_file(path) -> Classifier:
    """A network from a file: a Python file that sets ``model = imagevars.Sequential([...])``, or a YAML
    layer list (``input_shape: [28, 28, 1]`` and ``layers:`` items such as ``- Conv2D: {filters: 32,
    kernel_size: 3, activation: relu}``).

    Example:
        >>> model = from_file("net.yaml")  # doctest: +SKIP
    """
    import runpy
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--model-file {path} does not exist")
    if path.suffix == ".py":
        model = runpy.run_path(str(path)).get("model")
        if not isinstance(model, Classifier):
            raise ValueError(f"--model-file {path} must set model = imagevars.Sequential([...])")
        return model
    if path.suffix not in (".yaml", ".yml"):
        raise ValueError(
            f"--model-file {path}: a .py file that sets model = imagevars.Sequential([...]), or a .yaml layer list"
        )
    import yaml

    from .layers import from_config

    raw = yaml.safe_load(path.read_text()) or {}
    items = []
    for i, item in enumerate(raw.get("layers") or [], 1):
        if not isinstance(item, dict) or len(item) != 1:
            raise ValueError(f"--model-file {path}, layer {i}: write one layer per item, e.g. '- Dense: {{units: 10}}'")
        ((kind, args),) = item.items()
        items.append(from_config({"class_name": kind, "config": args or {}}))
    if "input_shape" not in raw:
        raise ValueError(f"--model-file {path}: say input_shape: [height, width, channels]")
    return Sequential(items, name=path.stem, input_shape=tuple(raw["input_shape"]))
