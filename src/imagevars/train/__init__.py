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
from typing import Any

from .callbacks import Callback, EarlyStopping, History, LearningRateScheduler

# Names whose modules import PyTorch load on first use, so that registering the MNIST models
# (imagevars.train.mnist_cards, read by `import imagevars`) stays light.
_LAZY = {"Classifier": "classifier", "export_onnx": "export", "save_model": "saving", "load_model": "loading"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
