"""The model registry and the models imagevars ships or can fetch.

Example:
    >>> from imagevars.models import list_models
    >>> list_models("mnist*")
    ['mnist-cnn']
"""

from .registry import ModelCard, WeightsSource, create_model, get_card, list_models, register_model
from . import centernet, diffusion, hf_detect, zoo  # noqa: F401  (registers the models)

__all__ = ["ModelCard", "WeightsSource", "create_model", "get_card", "list_models", "register_model"]
