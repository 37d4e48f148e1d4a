"""``embed``: a fixed-size feature vector per image from a pretrained backbone. The codebook.

The default backbone is the bundled EfficientNet-Lite0 (``efficientnet-lite0``, offline): the
1,280 numbers its ImageNet classifier reads (the global average of its last convolution),
computed from the same 224 x 224 central crop as ``classify``. Any image model on the Hugging
Face hub works too (``hf:facebook/dinov2-small``, ViT, ConvNeXt ...): its own pooled output, or
the mean of its last hidden states (the provenance says which). Images that look alike have
vectors that point the same way; the vectors are the input of measures learned from a few
hundred labels (a linear model on them is a "linear probe"), of clustering and of near-duplicate
search. For image-text search use ``clip-embed``.

Columns:

=================  =========================================================================
embed_vector       the feature vector, float32, length 1,280 for EfficientNet-Lite0 (the hub
                   model's size otherwise), as the
                   network gives it (not normalised; divide by its norm for cosine similarity)
=================  =========================================================================

Defaults: ``model`` efficientnet-lite0. The model and its weights' sha256 are recorded in the
provenance of every table.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Option, copies_per_worker
from .classify import CenterCropTask

_MODEL = "efficientnet-lite0"


class EmbedTask(CenterCropTask):
    """Backbone features of each image (see the module docstring: the codebook).

    Args:
        model: a registered backbone with features (default the bundled ``efficientnet-lite0``).
        threads: onnxruntime threads (default ``IMAGEVARS_THREADS`` or the cores available).

    Example:
        >>> import imagevars
        >>> imagevars.run(["embed"], "PHOTOS/", "emb.parquet")  # doctest: +SKIP
    """

    name = "embed"
    max_side = 2 * 224
    options = (
        Option(
            "--model",
            "model",
            str,
            "embed: a registered backbone (default: the bundled "
            "efficientnet-lite0) or hf:<owner>/<name> (DINOv2, ViT, ConvNeXt ...)",
        ),
    )

    def __init__(self, model: str = _MODEL, threads: int | None = None):
        from ..models.hf_classify import is_hub_classifier
        from ..models.registry import create_model, get_card, list_models

        self.model_name = str(model)
        if is_hub_classifier(str(model)):  # hf:<owner>/<name>[@revision] or a save_pretrained folder
            from ..models.hf_backbone import HubBackbone

            self.model = HubBackbone(str(model), threads=threads)
            self.card = self.model.card
        else:
            card = get_card(model) if model in list_models() else None
            if card is None or "features" not in card.config or card.config.get("format") != "onnx":
                names = [n for n in list_models() if "features" in get_card(n).config]
                raise ValueError(
                    f"no backbone {model!r} with features; registered: {', '.join(names)}, or "
                    "hf:<owner>/<name> (CLIP and SigLIP: the clip-embed task)"
                )
            self.card = card
            self.model = create_model(model, pretrained=True, threads=threads)
        self.dim = int(self.card.config["features"])
        self.per_worker = copies_per_worker(self.model, threads)
        self.side = self.card.input_size[0]
        self.max_side = 2 * self.side

    def params(self) -> dict[str, Any]:
        return {"model": self.model_name}

    def fields(self) -> list:
        import pyarrow as pa

        return [pa.field("embed_vector", pa.list_(pa.float32(), self.dim))]

    def __call__(self, batch: list[np.ndarray]) -> dict[str, list]:
        import pyarrow as pa

        if not batch:
            return {"embed_vector": []}
        _, features = self.model.predict(np.stack(batch))
        flat = pa.array(features.astype(np.float32).reshape(-1), pa.float32())
        return {"embed_vector": pa.FixedSizeListArray.from_arrays(flat, self.dim).to_pylist()}
