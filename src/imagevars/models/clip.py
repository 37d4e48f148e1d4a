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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._extras import require
from ..io.files import atomic_write
from .card import ModelCard, hub_card
from .hub import open_hub_model, split_spec
from .identity import hub_sha256
from .registry import register_model

DEFAULT_CLIP = "openai/clip-vit-base-patch32"
ONNX_TOLERANCE = 1e-4  # largest difference allowed between ONNX and torch unit image embeddings


class ClipModelError(RuntimeError):
    pass


_CLIP_NORM = {"mean": (0.48145466, 0.4578275, 0.40821073), "std": (0.26862954, 0.26130258, 0.27577711)}
_SIGLIP_NORM = {"mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)}
_RADFORD = "Radford et al. (2021), Learning transferable visual models from natural language supervision, ICML."


def _clip_card(name: str, repo: str, side: int, dim: int, norm: dict, license: str, citation: str,
               description: str) -> ModelCard:
    return hub_card(name, repo, task="embed", side=side, architecture="transformers-image-text", config={"dim": dim},
                    scale=1 / 255, **norm, license=license, citation=citation, description=description)


CLIP_MODELS = [
    _clip_card("clip-vit-b32", "openai/clip-vit-base-patch32", 224, 512, _CLIP_NORM,
               "MIT (see the model's page on the Hugging Face hub)", _RADFORD,
               "CLIP ViT-B/32: images and text in one 512-d space; the clip tasks' default (hub; internet once)"),
    _clip_card("clip-vit-l14", "openai/clip-vit-large-patch14", 224, 768, _CLIP_NORM,
               "MIT (see the model's page on the Hugging Face hub)", _RADFORD,
               "CLIP ViT-L/14: larger and better zero-shot, 768-d (hub; internet once)"),
    _clip_card("siglip-base", "google/siglip-base-patch16-224", 224, 768, _SIGLIP_NORM,
               "Apache-2.0 (see the model's page on the Hugging Face hub)",
               "Zhai et al. (2023), Sigmoid loss for language image pre-training, ICCV.",
               "SigLIP base, patch 16, 224 px: sigmoid-trained image-text model, 768-d (hub; internet once)"),
]


def _repo(spec: str) -> tuple[str, str | None]:
    """A registered name -> its hub repo and revision; otherwise ``owner/name[@revision]`` or a folder."""
    from .registry import get_card, list_models

    if spec in list_models() and get_card(spec).architecture == "transformers-image-text":
        card = get_card(spec)
        return card.config["hf_repo"], card.weights.revision
    return split_spec(spec)


def _builder(card: ModelCard):
    def build(card: ModelCard = card, weights: str | None = None, pretrained: bool = True, threads: int | None = None,
              backend: str = "torch") -> ClipModel:
        return ClipModel(weights or card.name, threads=threads, backend=backend, pretrained=pretrained)

    return build


for _card in CLIP_MODELS:
    register_model(_card)(_builder(_card))


class ClipModel:
    """Image and text encoders of a CLIP-style model, normalised embeddings out.

    Example:
        >>> m = ClipModel("openai/clip-vit-base-patch32")  # doctest: +SKIP
        >>> m.embed_texts(["a dog on a beach"]).shape  # doctest: +SKIP
        (1, 512)
    """

    def __init__(self, spec: str = DEFAULT_CLIP, threads: int | None = None, backend: str = "torch",
                 pretrained: bool = True):
        from .._env import threads as default_threads

        repo, revision = _repo(spec)
        self.processor, self.model, self.commit = open_hub_model(
            repo, revision, "CLIP model", ClipModelError, lambda t: t.AutoModel,
            processor_class=lambda t: t.AutoProcessor, pretrained=pretrained, threads=threads, purpose="CLIP models")
        if not hasattr(self.model, "get_image_features") or not hasattr(self.model, "get_text_features"):
            raise ClipModelError(f"{spec} is a {type(self.model).__name__}, not an image-text model (CLIP, SigLIP)")
        if backend not in ("torch", "onnx"):
            raise ValueError(f"backend must be 'torch' or 'onnx', got {backend!r}")
        self.spec, self.repo, self.revision, self.backend = spec, repo, revision, backend
        self.kind = "siglip" if "siglip" in type(self.model).__name__.lower() else "clip"
        self.max_tokens = int(getattr(self.model.config.text_config, "max_position_embeddings", 77))
        self.dim = int(getattr(self.model.config, "projection_dim", 0) or self.embed_texts(["x"]).shape[1])
        self.logit_scale = float(self.model.logit_scale.detach().exp()) if hasattr(self.model, "logit_scale") else 100.0
        size = getattr(self.processor.image_processor, "crop_size", None) or self.processor.image_processor.size
        self.image_side = int(size.get("height") or size.get("shortest_edge") or 224)
        self.onnx_check: float | None = None
        if backend == "onnx":
            self._session = self._onnx_session(threads or default_threads())

    def provenance(self) -> dict[str, Any]:
        out = {"model": self.repo, "revision": self.revision, "commit": self.commit,
               "architecture": type(self.model).__name__, "dim": self.dim, "backend": self.backend,
               "weights_sha256": hub_sha256(self.repo, self.revision)}
        if self.backend == "onnx":
            out["onnx_max_abs_diff_vs_torch"] = self.onnx_check
        return out

    def _image_module(self):
        import torch

        model = self.model

        class ImageEncoder(torch.nn.Module):  # pixel values -> unit image embeddings
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, pixel_values):
                out = _pooled(self.model.get_image_features(pixel_values=pixel_values))
                return out / out.norm(dim=-1, keepdim=True)

        return ImageEncoder().eval()

    def _onnx_session(self, threads: int):
        """The image encoder exported to ONNX once (cached), checked against torch, run by onnxruntime.

        The export is checked on random pixels: the largest difference of the unit embeddings
        from torch's must be below ``ONNX_TOLERANCE`` (recorded in the provenance).
        """
        import hashlib

        import torch

        ort = require("onnxruntime", "the ONNX image encoder")
        from .._env import home

        key = hashlib.sha256(f"{Path(self.repo).resolve() if Path(self.repo).is_dir() else self.repo}|"
                             f"{self.commit}|{self.revision}|{_weights_digest(self.model)}".encode()).hexdigest()[:16]
        path = Path(home()) / "onnx" / f"clip-image-{key}.onnx"
        side = self.image_side
        probe = torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(0))
        encoder = self._image_module()
        if not path.exists():
            def export(tmp: str) -> None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    torch.onnx.export(encoder, (probe,), tmp, input_names=["pixel_values"], output_names=["embeds"],
                                      dynamic_axes={"pixel_values": {0: "batch"}, "embeds": {0: "batch"}},
                                      opset_version=17, dynamo=False)

            atomic_write(path, export, suffix=".tmp.onnx")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        from .device import onnx_providers

        session = ort.InferenceSession(str(path), opts, providers=onnx_providers())
        with torch.inference_mode():
            want = encoder(probe.to(self.model.device)).cpu().numpy()
        got = session.run(None, {"pixel_values": probe.numpy()})[0]
        self.onnx_check = float(np.abs(got - want).max())
        if self.onnx_check > ONNX_TOLERANCE:
            path.unlink(missing_ok=True)
            raise ClipModelError(f"the ONNX image encoder differs from torch by {self.onnx_check:.2g} "
                                 f"(> {ONNX_TOLERANCE}); use backend='torch'")
        return session

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(N, dim) float32 unit vectors for RGB uint8 images (any sizes)."""
        import torch

        if not len(images):
            return np.zeros((0, self.dim), np.float32)
        inputs = self.processor(images=list(images), return_tensors="pt")
        if self.backend == "onnx":
            return _unit(self._session.run(None, {"pixel_values": inputs["pixel_values"].numpy()})[0])
        with torch.inference_mode():
            out = self.model.get_image_features(pixel_values=inputs["pixel_values"].to(self.model.device))
        return _unit(_tensor(out))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(N, dim) float32 unit vectors; texts longer than the encoder takes are cut, with a warning."""
        import torch

        texts = list(texts)
        tok = self.processor.tokenizer
        limit = self.max_tokens
        long = [t for t, ids in zip(texts, tok(texts)["input_ids"]) if len(ids) > limit]
        if long:
            warnings.warn(f"{len(long)} prompt(s) longer than the text encoder's {limit} tokens were cut, e.g. "
                          f"{long[0][:60]!r}", stacklevel=2)
        padding = "max_length" if self.kind == "siglip" else True
        inputs = tok(texts, padding=padding, truncation=True, max_length=limit, return_tensors="pt")
        with torch.inference_mode():
            out = self.model.get_text_features(**{k: v.to(self.model.device) for k, v in inputs.items()
                                                  if k in ("input_ids", "attention_mask")})
        return _unit(_tensor(out))


def _weights_digest(model) -> str:
    """A cheap fingerprint of the weights (a few values of every tensor), so a cached export is never stale."""
    import hashlib

    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        flat = t.detach().reshape(-1)
        h.update(name.encode())
        h.update(flat[:: max(1, flat.numel() // 16)].float().cpu().numpy().tobytes())
    return h.hexdigest()


def _pooled(out):
    """The embedding tensor: transformers 5 may return a model output object holding it as ``pooler_output``."""
    return out.pooler_output if hasattr(out, "pooler_output") and not hasattr(out, "shape") else out


def _tensor(out):
    return _pooled(out).float().cpu().numpy()


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def byte_tokenizer(folder: str | Path, max_tokens: int = 77):
    """A CLIP tokenizer with one token per byte (no merges), written to ``folder``: for random test models.

    Example:
        >>> byte_tokenizer(tmp).model_max_length  # doctest: +SKIP
        77
    """
    import json

    transformers = require("transformers", "building a test tokenizer")
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chars = list(bytes_to_unicode().values())
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab["<|startoftext|>"], vocab["<|endoftext|>"] = len(vocab), len(vocab) + 1
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return transformers.CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=max_tokens)


def save_random_clip(folder: str | Path, *, text: dict | None = None, vision: dict | None = None,
                     projection_dim: int = 512, image_side: int = 224, seed: int = 0) -> Path:
    """A randomly initialised CLIP with a byte-level tokenizer, saved as a hub snapshot would be.

    For timing and offline tests: the architecture (ViT-B/32 by default) is real, the weights
    are not. The tokenizer has no merges (one token per byte), which suits nothing but tests.

    Example:
        >>> save_random_clip(tmp, text=dict(hidden_size=16), vision=dict(hidden_size=16))  # doctest: +SKIP
    """
    torch = require("torch", "building a random CLIP")
    transformers = require("transformers", "building a random CLIP")

    folder = Path(folder)
    tok = byte_tokenizer(folder, (text or {}).get("max_position_embeddings", 77))
    vocab = tok.get_vocab()
    images = transformers.CLIPImageProcessor(size={"shortest_edge": image_side},
                                             crop_size={"height": image_side, "width": image_side})
    transformers.CLIPProcessor(image_processor=images, tokenizer=tok).save_pretrained(folder)
    text = {"vocab_size": len(vocab), "bos_token_id": len(vocab) - 2, "eos_token_id": len(vocab) - 1,
            "pad_token_id": len(vocab) - 1, **(text or {})}
    vision = {"image_size": image_side, **(vision or {})}
    torch.manual_seed(seed)
    config = transformers.CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection_dim)
    transformers.CLIPModel(config).save_pretrained(folder)
    return folder


def save_random_siglip(folder: str | Path, *, text: dict | None = None, vision: dict | None = None,
                       image_side: int = 224, vocab_size: int = 128, seed: int = 0) -> Path:
    """A randomly initialised SigLIP with a small SentencePiece tokenizer trained here, saved as a hub snapshot.

    SigLIP's tokenizer is a SentencePiece model (the ``sentencepiece`` package); this one is
    trained in a second on the COCO label words, which suits nothing but tests.

    Example:
        >>> save_random_siglip(tmp, text=dict(hidden_size=16), vision=dict(hidden_size=16))  # doctest: +SKIP
    """
    torch = require("torch", "building a random SigLIP")
    transformers = require("transformers", "building a random SigLIP")
    spm = require("sentencepiece", "SigLIP's tokenizer")
    from .labels import COCO_LABELS

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "_corpus.txt"
    corpus.write_text("\n".join(f"a photo of a {w}. a picture of the {w}, luxurious, plain, rugged" for w in COCO_LABELS))
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(folder / "_spiece"), vocab_size=vocab_size,
                                   model_type="unigram", character_coverage=1.0, hard_vocab_limit=False,
                                   minloglevel=2)
    max_tokens = (text or {}).get("max_position_embeddings", 64)
    tok = transformers.SiglipTokenizer(str(folder / "_spiece.model"), model_max_length=max_tokens)
    images = transformers.SiglipImageProcessor(size={"height": image_side, "width": image_side})
    transformers.SiglipProcessor(image_processor=images, tokenizer=tok).save_pretrained(folder)
    text = {"vocab_size": len(tok), "max_position_embeddings": max_tokens, "pad_token_id": tok.pad_token_id,
            "eos_token_id": tok.eos_token_id, **(text or {})}
    torch.manual_seed(seed)
    config = transformers.SiglipConfig(text_config=text, vision_config={"image_size": image_side, **(vision or {})})
    transformers.SiglipModel(config).save_pretrained(folder)
    for f in ("_corpus.txt", "_spiece.model", "_spiece.vocab"):
        (folder / f).unlink()
    return folder
