"""Saving and loading classifiers: safetensors weights, a JSON card, an ONNX export checked against torch.

A saved model is a folder::

    model.safetensors   the weights (never a pickle)
    card.json           the model card: labels, input, architecture, provenance, sha256
    model.onnx          the same network for ONNX Runtime, softmax included
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__
from .._download import sha256_file
from ..models.fast_cnn import FastCNN, FastCNNConfig
from ..models.lecture_cnn import LectureCNN, LectureCNNConfig
from ..models.registry import ModelCard, WeightsSource
from .classifier import Classifier
from .export import export_onnx

# The network families a card can name, and how to build each from its config.
ARCHITECTURES = {
    "lecture-cnn": lambda config: LectureCNN(LectureCNNConfig(**config)),
    "fast-cnn": lambda config: FastCNN(FastCNNConfig(**config)),
}


def build_classifier(card: ModelCard, weights: str | os.PathLike | None = None) -> Classifier:
    """A :class:`Classifier` for ``card``, randomly initialised or loaded from a safetensors file."""
    if card.architecture not in ARCHITECTURES:
        raise ValueError(f"card {card.name!r} names an unknown architecture {card.architecture!r}")
    module = ARCHITECTURES[card.architecture](card.config)
    if weights is not None:
        from safetensors.torch import load_file

        state = load_file(os.fspath(weights))
        missing, unexpected = module.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(
                f"weights file {weights} does not fit {card.name!r} ({card.architecture}, {card.config}): "
                f"missing {missing}, unexpected {unexpected}"
            )
    module.eval()
    return Classifier(module, card)


def save_model(model: Classifier, directory: str | os.PathLike, *, onnx: bool = True, **training: Any) -> Path:
    """Write ``model.safetensors``, ``card.json`` and (optionally) ``model.onnx`` into ``directory``.

    ``training`` (command, seed, recipe, test accuracy ...) is recorded in the card's
    ``training`` field along with the package version, PyTorch version and platform.

    Example:
        >>> import imagevars, tempfile
        >>> folder = imagevars.create_model("mnist-cnn").save(tempfile.mkdtemp(), onnx=False)
        >>> sorted(p.name for p in folder.iterdir())
        ['card.json', 'model.safetensors']
    """
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / "model.safetensors"
    state = {k: v.detach().contiguous() for k, v in model.module.state_dict().items()}
    save_file(state, os.fspath(weights), metadata={"imagevars": __version__, "architecture": model.card.architecture})
    record = {
        **model.card.training,
        **training,
        "imagevars_version": __version__,
        "torch_version": torch.__version__,
        "platform": platform.platform(),
    }
    card = dataclasses.replace(
        model.card,
        weights=WeightsSource(filename=weights.name, sha256=sha256_file(weights), bundled=False),
        training=record,
    )
    model.card = card
    if onnx:
        onnx_path = export_onnx(model, directory / "model.onnx")
        record["onnx_sha256"] = sha256_file(onnx_path)
    (directory / "card.json").write_text(json.dumps(card.to_dict(), indent=2, default=_json_default) + "\n")
    return directory


def load_model(directory: str | os.PathLike) -> Classifier:
    """Load a folder written by :func:`save_model`, checking the weights' sha256.

    Example:
        >>> import imagevars, tempfile
        >>> folder = imagevars.create_model("mnist-cnn").save(tempfile.mkdtemp(), onnx=False)
        >>> load_model(folder).count_params()
        34826
    """
    from ..models.weights import _verified

    directory = Path(directory)
    card_file = directory / "card.json"
    if not card_file.exists():
        raise FileNotFoundError(f"{directory} is not a saved imagevars model: it has no card.json")
    card = ModelCard.from_dict(json.loads(card_file.read_text()))
    weights = _verified(directory / card.weights.filename, card.weights.sha256, card.name)
    return build_classifier(card, weights)


def open_classifier(model: "str | os.PathLike | Classifier") -> Classifier:
    """A classifier from a registered name (pretrained weights), a saved model folder, or as given.

    Example:
        >>> open_classifier("mnist-cnn").card.name
        'mnist-cnn'
    """
    from ..models.registry import list_models

    if isinstance(model, Classifier):
        return model
    if str(model) in list_models():
        from ..models.registry import create_model

        return create_model(str(model), pretrained=True)
    if not Path(model).is_dir():
        raise FileNotFoundError(f"{model} is neither a registered model (imagevars models) nor a saved model folder")
    return load_model(model)


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (Path,)):
        return str(o)
    raise TypeError(f"cannot serialise {type(o).__name__}")
