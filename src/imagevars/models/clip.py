"""CLIP and SigLIP: images and text in one embedding space, through transformers.

References:
    - Radford et al. (2021), "Learning transferable visual models from natural language
      supervision", ICML (CLIP). Default: ``openai/clip-vit-base-patch32``.
    - Zhai et al. (2023), "Sigmoid loss for language image pre-training", ICCV (SigLIP).

A model is a hub id (``openai/clip-vit-base-patch32``, optionally ``@revision``) or a local
folder written by ``save_pretrained``; weights are cached under ``$IMAGEVARS_HOME/hf`` and, with
``IMAGEVARS_OFFLINE=1`` / ``HF_HUB_OFFLINE=1``, read only from there. Embeddings are
L2-normalised float32, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._extras import require
from .hub import from_pretrained

DEFAULT_CLIP = "openai/clip-vit-base-patch32"


class ClipModelError(RuntimeError):
    pass


class ClipModel:
    """Image and text encoders of a CLIP-style model, normalised embeddings out.

    Example:
        >>> m = ClipModel("openai/clip-vit-base-patch32")  # doctest: +SKIP
        >>> m.embed_texts(["a dog on a beach"]).shape  # doctest: +SKIP
        (1, 512)
    """

    def __init__(self, spec: str = DEFAULT_CLIP, threads: int | None = None):
        require("transformers", "CLIP models")
        torch = require("torch", "CLIP models")
        from transformers import AutoModel, AutoProcessor

        from .._env import threads as default_threads

        repo, _, revision = spec.partition("@") if not Path(spec).is_dir() else (spec, "", "")
        self.processor, model = from_pretrained(repo, revision or None, "CLIP model", ClipModelError,
                                                AutoProcessor, AutoModel)
        self.model = model.eval()
        if not hasattr(self.model, "get_image_features") or not hasattr(self.model, "get_text_features"):
            raise ClipModelError(f"{spec} is a {type(self.model).__name__}, not an image-text model (CLIP, SigLIP)")
        torch.set_num_threads(threads or default_threads())
        self.spec, self.repo, self.revision = spec, repo, revision or None
        self.commit = getattr(self.model.config, "_commit_hash", None)
        self.kind = "siglip" if "siglip" in type(self.model).__name__.lower() else "clip"
        self.dim = int(getattr(self.model.config, "projection_dim", 0) or self.embed_texts(["x"]).shape[1])
        self.max_tokens = int(getattr(self.model.config.text_config, "max_position_embeddings", 77))
        self.logit_scale = float(self.model.logit_scale.detach().exp()) if hasattr(self.model, "logit_scale") else 100.0
        size = getattr(self.processor.image_processor, "crop_size", None) or self.processor.image_processor.size
        self.image_side = int(size.get("height") or size.get("shortest_edge") or 224)

    def provenance(self) -> dict[str, Any]:
        return {"model": self.repo, "revision": self.revision, "commit": self.commit,
                "architecture": type(self.model).__name__, "dim": self.dim}

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(N, dim) float32 unit vectors for RGB uint8 images (any sizes)."""
        import torch

        if not len(images):
            return np.zeros((0, self.dim), np.float32)
        inputs = self.processor(images=list(images), return_tensors="pt")
        with torch.inference_mode():
            out = self.model.get_image_features(pixel_values=inputs["pixel_values"])
        return _unit(_tensor(out))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(N, dim) float32 unit vectors; texts longer than the encoder takes are cut, with a warning."""
        import torch

        texts = list(texts)
        tok = self.processor.tokenizer
        limit = getattr(self, "max_tokens", 77)
        long = [t for t in texts if len(tok(t)["input_ids"]) > limit]
        if long:
            warnings.warn(f"{len(long)} prompt(s) longer than the text encoder's {limit} tokens were cut, e.g. "
                          f"{long[0][:60]!r}", stacklevel=2)
        padding = "max_length" if self.__dict__.get("kind") == "siglip" else True
        inputs = tok(texts, padding=padding, truncation=True, max_length=limit, return_tensors="pt")
        with torch.inference_mode():
            out = self.model.get_text_features(**{k: v for k, v in inputs.items()
                                                  if k in ("input_ids", "attention_mask")})
        return _unit(_tensor(out))


def _tensor(out):
    """transformers 5 may return a model output object; the pooled embedding is what we want."""
    if hasattr(out, "pooler_output") and not hasattr(out, "shape"):
        out = out.pooler_output
    return out.float().numpy()


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)
