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


def open_classifier(model: str | os.PathLike | Classifier) -> Classifier:
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


class ImagePredictor:
    """A trained classifier with the bundled classifier's interface, for ``run classify``:
    ``predict`` takes (N, side, side, 3) uint8 RGB central crops and returns (probabilities, None);
    a one-channel network gets the crops in grey (ITU-R 601 luma, as Pillow's "L")."""

    def __init__(self, folder: str | os.PathLike, threads: int | None = None):
        import torch

        from .._env import threads as default_threads

        torch.set_num_threads(threads or default_threads())
        self.classifier = load_model(folder)
        self.card = self.classifier.card

    def predict(self, images):
        import numpy as np

        images = np.asarray(images)
        if self.card.input_size[2] == 1:
            grey = images[..., 0] * 0.299 + images[..., 1] * 0.587 + images[..., 2] * 0.114
            images = np.clip(np.rint(grey), 0, 255).astype(np.uint8)[..., None]
        return self.classifier.predict(images, verbose=0), None
