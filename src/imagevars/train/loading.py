"""Opening a saved model folder, or a registered model by name, as a :class:`Classifier`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..models.card import ModelCard
from ..models.weights import verified_file
from .classifier import Classifier
from .mnist_cnn import build_classifier


def load_model(directory: str | os.PathLike) -> Classifier:
    """Load a folder written by :func:`save_model`, checking the weights' sha256.

    Example:
        >>> import imagevars, tempfile
        >>> folder = imagevars.create_model("mnist-cnn").save(tempfile.mkdtemp(), onnx=False)
        >>> load_model(folder).count_params()
        34826
    """
    directory = Path(directory)
    card_file = directory / "card.json"
    if not card_file.exists():
        raise FileNotFoundError(f"{directory} is not a saved imagevars model: it has no card.json")
    card = ModelCard.from_dict(json.loads(card_file.read_text()))
    weights = verified_file(directory / card.weights.filename, card.weights.sha256, card.name)
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
        from ..models.registry import create_model, get_card

        if get_card(str(model)).task != "classify":
            raise ValueError(f"{model} is a {get_card(str(model)).task} model, not a classifier; see imagevars models")
        return create_model(str(model), pretrained=True)
    if not Path(model).is_dir():
        raise FileNotFoundError(f"{model} is neither a registered model (imagevars models) nor a saved model folder")
    return load_model(model)
