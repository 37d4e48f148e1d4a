"""Image backbones from the Hugging Face hub through transformers (DINOv2, ViT, ConvNeXt ...): a vector per image.

``hf:<owner>/<name>[@revision]`` or a local ``save_pretrained`` folder, loaded with
``AutoModel`` and its image processor, offline-aware like the other hub models. The vector is the
model's own pooled output (``pooler_output``: the normalised class token for DINOv2 and ViT, the
global average for ConvNeXt), or the mean of its last hidden states when it has none; the
provenance says which.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .card import ModelCard
from .hub import open_hub_model, processor_side, split_spec
from .identity import hub_sha256


class HubBackboneError(RuntimeError):
    pass


class HubBackbone:
    """A transformers image model as a feature extractor: ``predict`` gives (None, features (N, D)).

    Example:
        >>> net = HubBackbone("hf:facebook/dinov2-small")  # doctest: +SKIP
        >>> net.predict(np.zeros((1, 224, 224, 3), np.uint8))[1].shape  # doctest: +SKIP
        (1, 384)
    """

    def __init__(self, spec: str, threads: int | None = None):
        self.spec = spec
        self.repo, self.revision = split_spec(spec[3:] if spec.startswith("hf:") else spec)
        self.processor, self.model, self.commit = open_hub_model(
            self.repo, self.revision, "image backbone", HubBackboneError, lambda t: t.AutoModel, threads=threads
        )
        side = processor_side(self.processor, 224)
        probe = self._pool(np.zeros((1, side, side, 3), np.uint8))
        self.dim = int(probe.shape[1])
        self.card = ModelCard(
            name=spec,
            task="embed",
            labels=(),
            input_size=(side, side, 3),
            scale=1.0,
            architecture=type(self.model).__name__,
            config={"hf_repo": self.repo, "format": "transformers", "crop": 0.875, "features": self.dim},
        )

    def provenance(self) -> dict[str, Any]:
        return {
            "hf_repo": self.repo,
            "revision": self.revision,
            "commit": self.commit,
            "architecture": type(self.model).__name__,
            "weights_sha256": hub_sha256(self.repo, self.revision),
            "pooling": self.pooling,
            "dim": self.dim,
        }

    def _pool(self, images: np.ndarray) -> np.ndarray:
        import torch

        inputs = self.processor(images=list(images), return_tensors="pt").to(self.model.device)
        with torch.inference_mode():
            out = self.model(**inputs)
        pooled = getattr(out, "pooler_output", None)
        if pooled is not None:
            self.pooling = "pooler_output"
        else:
            pooled = out.last_hidden_state.float().mean(dim=1)
            self.pooling = "mean of last_hidden_state"
        return pooled.float().reshape(len(images), -1).cpu().numpy()

    def predict(self, images: np.ndarray) -> tuple[None, np.ndarray]:
        images = np.asarray(images)
        if not len(images):
            return None, np.zeros((0, self.dim), np.float32)
        return None, self._pool(images)
