"""Cards and registered variants of the MNIST networks (:mod:`imagevars.train.mnist_cnn`).

Importing this file loads no PyTorch: a builder imports the networks when a model is built, so
``import imagevars`` and ``imagevars models`` stay light.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .._extras import require
from ..models.card import ModelCard, WeightsSource
from ..models.registry import register_model

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
        sha256="6f7f372927ca9a9414e8729ebf19cbeae0ce7191ccbcde7099da85c1a48deeb7",
        bundled=True,
    ),
    license="Apache-2.0 (weights trained by the imagevars project on MNIST)",
    citation=(
        "LeCun, Cortes & Burges, The MNIST database of handwritten digits (1998); network after "
        "F. Chollet, Simple MNIST convnet, keras.io (2015)."
    ),
    description="The lecture's MNIST convnet (34,826 parameters), trained by imagevars.",
    # How the bundled weights were made (imagevars.train.recipes.RECIPES["bundled"]); the full
    # record is mnist-cnn.card.json, the card `imagevars train` wrote beside them.
    training={
        "command": "imagevars train mnist --recipe bundled --seed 0 -o /tmp/runs/bundled2 -q --threads 2",
        "seed": 0,
        "threads": 2,
        "n_train": 60000,
        "test_correct": 9938,
        "test_accuracy": 0.9938,
        "test_loss": 0.02065,
        "imagevars_version": "0.1.0",
        "torch_version": "2.13.0+cpu",
        "platform": "Linux-6.18.44-fc-v595-x86_64-with-glibc2.36",
        "recipe": "bundled",
    },
)


@register_model(MNIST_CNN)
def mnist_cnn(card: ModelCard, weights: str | None = None, pretrained: bool = False, **overrides: Any):
    """The lecture's convnet; ``overrides`` may set labels, in_channels, input_size, dropout."""
    require("torch", "the mnist-cnn model")
    from .mnist_cnn import build_classifier

    return build_classifier(_override(card, overrides, pretrained=weights is not None), weights)


MNIST_FAST_CNN = ModelCard(
    name="mnist-fast-cnn",
    task="classify",
    labels=DIGITS,
    input_size=(28, 28, 1),
    architecture="fast-cnn",
    config={"in_channels": 1, "input_size": 28, "num_classes": 10},
    weights=None,
    license="Apache-2.0",
    citation="Network after T. Oikarinen, github.com/tuomaso/train_mnist_fast (2021).",
    description="A small convnet that reaches 99% on MNIST in the least CPU time (the fast recipe).",
)


@register_model(MNIST_FAST_CNN)
def mnist_fast_cnn(card: ModelCard, weights: str | None = None, pretrained: bool = False, **overrides: Any):
    """The fast recipe's network; ``overrides`` as for ``mnist-cnn``."""
    require("torch", "the mnist-fast-cnn model")
    from .mnist_cnn import build_classifier

    return build_classifier(_override(card, overrides, pretrained=weights is not None), weights)


def _override(card: ModelCard, overrides: dict[str, Any], *, pretrained: bool) -> ModelCard:
    """A copy of ``card`` with architecture settings replaced (a fresh card: no weights)."""
    if not overrides:
        return card
    config = dict(card.config)
    labels = tuple(str(x) for x in overrides.pop("labels", card.labels))
    config["num_classes"] = len(labels)
    for key in ("in_channels", "input_size", "dropout", "width1", "width2", "hidden"):
        if key in overrides:
            config[key] = overrides.pop(key)
    if overrides:
        raise TypeError(f"unknown setting(s) for {card.name!r}: {', '.join(overrides)}")
    if (
        pretrained
        and config != card.config
        and {k: v for k, v in config.items() if k != "dropout"}
        != {k: v for k, v in card.config.items() if k != "dropout"}
    ):
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


TRAINED_ARCHITECTURES = (
    "lecture-cnn",
    "fast-cnn",
    "sequential",
)  # the networks imagevars trains (mnist_cnn.ARCHITECTURES)


def is_trained_folder(path) -> bool:
    """Whether ``path`` is a folder ``save_model`` wrote (a card naming a network imagevars trains); no PyTorch.

    Example:
        >>> is_trained_folder("no-such-folder")
        False
    """
    import json
    from pathlib import Path

    card = Path(path) / "card.json"
    return card.is_file() and json.loads(card.read_text()).get("architecture") in TRAINED_ARCHITECTURES
