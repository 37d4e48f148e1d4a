"""Training and understanding classifiers, the Keras way: compile, fit, evaluate, predict.

Example:
    >>> import imagevars
    >>> from imagevars.train import set_seed
    >>> set_seed(0)
    >>> model = imagevars.create_model("mnist-cnn")
    >>> model.count_params()
    34826
"""

from __future__ import annotations

import random

from .callbacks import Callback, EarlyStopping, History, LearningRateScheduler
from .classifier import Classifier
from .export import export_onnx
from .saving import load_model, save_model


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's generators, as ``keras.utils.set_random_seed`` does."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


__all__ = [
    "Callback",
    "Classifier",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "export_onnx",
    "load_model",
    "save_model",
    "set_seed",
]
