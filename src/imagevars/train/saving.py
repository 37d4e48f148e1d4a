"""Saving classifiers: safetensors weights, a JSON card, an ONNX export checked against torch.

:mod:`imagevars.train.loading` reads such a folder back.

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
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .._version import __version__
from ..io.files import atomic_write, sha256_file
from ..models.card import WeightsSource
from .export import export_onnx

if TYPE_CHECKING:  # the type only: the classifier imports this module to save itself
    from .classifier import Classifier


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
    meta = {"imagevars": __version__, "architecture": model.card.architecture}
    atomic_write(weights, lambda tmp: save_file(state, tmp, metadata=meta))
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
    text = json.dumps(card.to_dict(), indent=2, default=_json_default) + "\n"
    atomic_write(directory / "card.json", lambda tmp: Path(tmp).write_text(text))
    return directory


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (Path,)):
        return str(o)
    raise TypeError(f"cannot serialise {type(o).__name__}")
