"""A model's card: what it measures, what it takes, where its weights come from.

Every model imagevars can run has one (see :mod:`imagevars.models.registry`); it is written
into the provenance of every table the model helps make, and beside every model imagevars saves.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class WeightsSource:
    """Where a model's weights come from, in the order they are looked for."""

    filename: str  # file name inside the package's bundled folder, the cache and the URL
    sha256: str  # hex digest of the file; checked every time it is loaded
    bundled: bool = False  # shipped inside the imagevars package
    url: str | None = None  # a direct download address
    hf_repo: str | None = None  # a Hugging Face repo id (used with `revision`)
    revision: str | None = None  # a commit hash or tag on the hub


@dataclass(frozen=True)
class ModelCard:
    """What a model is, what it takes, where it comes from. Serialised into every output."""

    name: str
    task: str  # "classify", "detect", ...
    labels: tuple[str, ...]
    input_size: tuple[int, int, int]  # (height, width, channels)
    scale: float = 1 / 255  # pixel values are multiplied by this ...
    mean: tuple[float, ...] = (0.0,)  # ... then normalised per channel
    std: tuple[float, ...] = (1.0,)
    weights: WeightsSource | None = None
    license: str = ""
    citation: str = ""
    description: str = ""
    architecture: str = ""  # the network family, e.g. "lecture-cnn"
    config: dict[str, Any] = field(default_factory=dict)  # its settings (channels, classes, ...)
    training: dict[str, Any] = field(default_factory=dict)  # how the weights were made

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelCard:
        """The inverse of :meth:`to_dict`."""
        d = dict(d)
        w = d.pop("weights", None)
        for key in ("labels", "input_size", "mean", "std"):
            if key in d:
                d[key] = tuple(d[key])
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(weights=WeightsSource(**w) if w else None, **{k: v for k, v in d.items() if k in known})


def hub_card(
    name: str,
    repo: str,
    *,
    task: str,
    architecture: str,
    side: int,
    revision: str | None = None,
    filename: str = "model.safetensors",
    config: dict[str, Any] | None = None,
    **fields: Any,
) -> ModelCard:
    """The card of a model that lives on the Hugging Face hub: square ``side`` px input, ``repo`` (and the pinned
    hub ``revision``, if any) in its config and weights source; no sha256, the hub's own checks apply.

    Example:
        >>> card = hub_card("rtdetr-r18", "PekingU/rtdetr_r18vd", task="detect", side=640,
        ...                 architecture="transformers-object-detection", scale=1.0)
        >>> card.config, card.weights.hf_repo, card.input_size
        ({'hf_repo': 'PekingU/rtdetr_r18vd'}, 'PekingU/rtdetr_r18vd', (640, 640, 3))
    """
    fields.setdefault("labels", ())
    return ModelCard(
        name=name,
        task=task,
        input_size=(side, side, 3),
        architecture=architecture,
        config={"hf_repo": repo, **(config or {})},
        weights=WeightsSource(filename=filename, sha256="", hf_repo=repo, revision=revision),
        **fields,
    )
