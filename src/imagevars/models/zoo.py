"""The models imagevars registers, each with its card. Builders import heavy libraries lazily."""

from __future__ import annotations

import dataclasses
from typing import Any

from .registry import ModelCard, WeightsSource, register_model

DIGITS = tuple(str(d) for d in range(10))

MNIST_CNN = ModelCard(
    name="mnist-cnn",
    task="classify",
    labels=DIGITS,
    input_size=(28, 28, 1),
    scale=1 / 255,
    mean=(0.0,),
    std=(1.0,),
    architecture="lecture-cnn",
    config={"in_channels": 1, "input_size": 28, "num_classes": 10, "dropout": 0.5},
    weights=WeightsSource(
        filename="mnist-cnn.safetensors",
        sha256="0000000000000000000000000000000000000000000000000000000000000000",
        bundled=True,
    ),
    license="Apache-2.0 (weights trained by the imagevars project on MNIST)",
    citation=(
        "LeCun, Cortes & Burges, The MNIST database of handwritten digits (1998); network after "
        "F. Chollet, Simple MNIST convnet, keras.io (2015)."
    ),
    description="The lecture's MNIST convnet (34,826 parameters), trained by imagevars.",
    training={},
)


@register_model(MNIST_CNN)
def mnist_cnn(card: ModelCard, weights: str | None = None, **overrides: Any):
    """The lecture's convnet; ``overrides`` may set labels, in_channels, input_size, dropout."""
    from ..train.saving import build_classifier

    return build_classifier(_override(card, overrides, pretrained=weights is not None), weights)


def _override(card: ModelCard, overrides: dict[str, Any], *, pretrained: bool) -> ModelCard:
    """A copy of ``card`` with architecture settings replaced (a fresh card: no weights)."""
    if not overrides:
        return card
    config = dict(card.config)
    labels = tuple(str(x) for x in overrides.pop("labels", card.labels))
    config["num_classes"] = len(labels)
    for key in ("in_channels", "input_size", "dropout"):
        if key in overrides:
            config[key] = overrides.pop(key)
    if overrides:
        raise TypeError(f"unknown setting(s) for {card.name!r}: {', '.join(overrides)}")
    if pretrained and config != card.config and {k: v for k, v in config.items() if k != "dropout"} != {
        k: v for k, v in card.config.items() if k != "dropout"
    }:
        raise ValueError(
            f"the pretrained weights of {card.name!r} are for {card.config}; they cannot be loaded "
            f"into {config}. Use pretrained=False to train a network of that shape."
        )
    channels = config["in_channels"]
    return dataclasses.replace(
        card,
        labels=labels,
        input_size=(config["input_size"], config["input_size"], channels),
        mean=card.mean * channels if len(card.mean) == 1 else card.mean,
        std=card.std * channels if len(card.std) == 1 else card.std,
        config=config,
        weights=card.weights if pretrained else None,
        training={} if not pretrained else card.training,
    )
