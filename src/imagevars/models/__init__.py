"""The model registry and the models imagevars ships or can fetch.

Example:
    >>> from imagevars.models import list_models
    >>> list_models("mnist*")
    ['mnist-cnn', 'mnist-fast-cnn']
"""

from . import (  # each registers its models
    blazeface,
    centernet,
    clip,
    diffusion,
    efficientnet,
    hf_detect,
    open_vocab,
    vlm,
)
from .card import ModelCard, WeightsSource
from .registry import create_model, get_card, list_models, register_model

__all__ = ["ModelCard", "WeightsSource", "create_model", "get_card", "list_models", "register_model"]
