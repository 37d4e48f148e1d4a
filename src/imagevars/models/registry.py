"""A registry of models, each with a card: ``register_model``, ``create_model``, ``list_models``.

Modelled on timm's registry: a model is a small function decorated with ``@register_model``
and described by a :class:`ModelCard` that says what it measures, what it expects as input,
where its weights come from, their sha256, license and citation. Building a model never
imports a heavy library until that model is asked for.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .card import ModelCard, WeightsSource


@dataclass(frozen=True)
class _Entry:
    card: ModelCard
    build: Callable[..., Any]


_REGISTRY: dict[str, _Entry] = {}


def register_model(card: ModelCard) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator that registers a builder function under ``card.name``.

    The builder takes ``card``, ``weights`` (a path to load, or None), ``pretrained`` (False:
    random weights in the card's architecture; hub models then read only their configuration)
    and keyword overrides, and returns the model.

    Example:
        >>> from imagevars.models.registry import ModelCard, register_model
        >>> @register_model(ModelCard(name="doc-identity", task="demo", labels=(), input_size=(1, 1, 1)))
        ... def doc_identity(card, weights=None, pretrained=False, **kw):
        ...     return card.name
        >>> create_model("doc-identity")
        'doc-identity'
    """

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        if card.name in _REGISTRY:
            raise ValueError(f"a model named {card.name!r} is already registered")
        _REGISTRY[card.name] = _Entry(card, fn)
        return fn

    return wrap


def list_models(pattern: str = "*") -> list[str]:
    """Names of registered models matching a shell-style pattern, sorted.

    Example:
        >>> "mnist-cnn" in list_models()
        True
    """
    return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def get_card(name: str) -> ModelCard:
    """The card of a registered model.

    Example:
        >>> get_card("mnist-cnn").input_size
        (28, 28, 1)
    """
    return _entry(name).card


def create_model(
    name: str, pretrained: bool = False, *, weights: str | os.PathLike | None = None, **overrides: Any
) -> Any:
    """Build a registered model, with random weights or its pretrained ones.

    Args:
        name: a name from :func:`list_models`.
        pretrained: load the model's published weights (bundled, cached or downloaded,
            always checked against the card's sha256).
        weights: an explicit local weights file; implies ``pretrained``.
        **overrides: architecture settings that replace the card's defaults (for example
            ``num_classes`` or ``input_size``); not allowed together with pretrained weights
            of another shape.

    Example:
        >>> import imagevars
        >>> model = imagevars.create_model("mnist-cnn")            # untrained  # doctest: +SKIP
        >>> model = imagevars.create_model("mnist-cnn", pretrained=True)        # doctest: +SKIP
    """
    entry = _entry(name)
    card, path = entry.card, None
    if weights is not None:  # the user's file: its own sha256 is what the provenance records
        import dataclasses

        from ..io.files import sha256_file

        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"weights file {path} does not exist")
        own = WeightsSource(filename=os.path.basename(path), sha256=sha256_file(path), bundled=False)
        card = dataclasses.replace(card, weights=own)
    elif pretrained and not _from_hub(card):
        from .weights import resolve_weights

        path = resolve_weights(card)
    return entry.build(card, weights=path, pretrained=pretrained or weights is not None, **overrides)


def _from_hub(card: ModelCard) -> bool:
    """Hub models (a repo id, no file of ours) are fetched by their own library's cache code."""
    w = card.weights
    return bool(w and w.hf_repo and not w.bundled and not w.url)


def _entry(name: str) -> _Entry:
    try:
        return _REGISTRY[name]
    except KeyError:
        close = fnmatch.filter(_REGISTRY, f"*{name.split('-')[0]}*") or sorted(_REGISTRY)
        raise KeyError(
            f"no model named {name!r}; available: {', '.join(close)} (see imagevars.list_models())"
        ) from None
