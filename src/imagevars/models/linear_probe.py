"""A learned measure: linear heads on a backbone's features, saved as safetensors with its card.

``imagevars learn`` fits it (scikit-learn, cross-validated) and writes a folder::

    model.safetensors   per target: the feature scaling (mean, scale) and the linear head (coef, intercept)
    card.json           the card: backbone and its sha256, targets and their classes, CV results, data hash

Applying it needs only NumPy: standardise the backbone's features, then a softmax (classes), a
logistic (two classes) or nothing (a number). ``imagevars run classify --model FOLDER`` does it
at scale, and so does every engine, since the head is arrays and the backbone a registered model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .card import ModelCard, WeightsSource

ARCHITECTURE = "linear-probe"


@dataclass
class Head:
    """One target's head: ``kind`` "classes" (softmax or logistic over ``classes``) or "number"."""

    target: str
    kind: str
    classes: tuple[str, ...]
    mean: np.ndarray  # (D,) feature means
    scale: np.ndarray  # (D,) feature standard deviations
    coef: np.ndarray  # (K, D): K = 1 for two classes and for a number
    intercept: np.ndarray  # (K,)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(N, D) backbone features -> (N, len(classes)) probabilities, or (N,) numbers.

        Example:
            >>> h = Head("pro", "classes", ("no", "yes"), np.zeros(2), np.ones(2), np.array([[1.0, 0]]), np.zeros(1))
            >>> h.predict(np.array([[0.0, 5.0], [100.0, 0.0]])).round(3).tolist()
            [[0.5, 0.5], [0.0, 1.0]]
        """
        z = (np.asarray(features, np.float64) - self.mean) / self.scale @ self.coef.T + self.intercept
        if self.kind == "number":
            return z[:, 0]
        if z.shape[1] == 1:  # two classes: the logistic of the second
            p = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.column_stack([1.0 - p, p])
        z = z - z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)


def is_measure(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder written by :func:`save`."""
    card = Path(path) / "card.json"
    return card.is_file() and json.loads(card.read_text()).get("architecture") == ARCHITECTURE


def save(folder: str | os.PathLike, heads: list[Head], card: ModelCard) -> Path:
    """Write the heads as safetensors and the card (with the weights' sha256) into ``folder``."""
    import dataclasses

    from safetensors.numpy import save_file

    from ..io.files import atomic_write, sha256_file

    folder = Path(folder)
    tensors = {
        f"{h.target}.{k}": np.ascontiguousarray(getattr(h, k), np.float64)
        for h in heads
        for k in ("mean", "scale", "coef", "intercept")
    }
    weights = atomic_write(folder / "model.safetensors", lambda tmp: save_file(tensors, tmp))
    heads_meta = {h.target: {"kind": h.kind, "classes": list(h.classes)} for h in heads}
    card = dataclasses.replace(
        card,
        architecture=ARCHITECTURE,
        config={**card.config, "heads": heads_meta},
        weights=WeightsSource(filename=weights.name, sha256=sha256_file(weights)),
    )
    text = json.dumps(card.to_dict(), indent=2, default=str) + "\n"
    atomic_write(folder / "card.json", lambda tmp: Path(tmp).write_text(text))
    return folder


def load(folder: str | os.PathLike) -> tuple[ModelCard, list[Head]]:
    """The card and heads of a saved measure; the weights' sha256 is checked against the card."""
    from safetensors.numpy import load_file

    from .weights import verified_file

    folder = Path(folder)
    card = ModelCard.from_dict(json.loads((folder / "card.json").read_text()))
    if card.architecture != ARCHITECTURE:
        raise ValueError(f"{folder} holds a {card.architecture or 'other'} model, not a learned measure")
    tensors = load_file(str(verified_file(folder / card.weights.filename, card.weights.sha256, card.name)))
    heads = [
        Head(
            target,
            meta["kind"],
            tuple(meta["classes"]),
            *(tensors[f"{target}.{k}"] for k in ("mean", "scale", "coef", "intercept")),
        )
        for target, meta in card.config["heads"].items()
    ]
    return card, heads


def describe(card: ModelCard) -> dict[str, Any]:
    """What a table's provenance says of a measure: its name, backbone and the sha256 of both."""
    return {
        "name": card.name,
        "backbone": card.config.get("backbone"),
        "backbone_sha256": card.config.get("backbone_sha256"),
        "weights_sha256": card.weights.sha256,
    }
