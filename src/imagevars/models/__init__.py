"""The model registry and the models imagevars ships or can fetch.

Example:
    >>> from imagevars.models import list_models
    >>> list_models("mnist*")
    ['mnist-cnn', 'mnist-fast-cnn']
"""

from .card import ModelCard, WeightsSource
from .registry import create_model, get_card, list_models, register_model
from . import blazeface, centernet, clip, diffusion, efficientnet, hf_detect, open_vocab, vlm  # each registers its models

__all__ = ["ModelCard", "WeightsSource", "create_model", "get_card", "list_models", "register_model"]
