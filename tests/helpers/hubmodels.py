"""Tiny random hub models for tests, put into an offline Hugging Face cache as a download would."""

from __future__ import annotations

from pathlib import Path


def tiny_vit(folder: Path, hub_cache: Path, repo: str = "someone/tiny-vit", classes: int = 0) -> Path:
    """A 16-wide, one-layer ViT for 32 px images (seeded), saved to ``folder`` and cached as ``repo``:
    a backbone, or an image classifier with ``classes`` classes."""
    from imagevars.testing import put_in_hub_cache

    save_tiny_vit(folder, classes)
    put_in_hub_cache(folder, repo, hub_cache)
    return folder


def save_tiny_vit(folder: Path, classes: int | list[str] = 0, seed: int = 0) -> Path:
    """The tiny ViT saved as save_pretrained writes it: a backbone, or a classifier with ``classes`` classes
    (a number, or their names); ``seed`` draws its weights."""
    import torch
    import transformers

    torch.manual_seed(seed)
    names = classes if isinstance(classes, list) else [f"LABEL_{i}" for i in range(max(classes, 2))]
    config = transformers.ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
    )
    (transformers.ViTForImageClassification if classes else transformers.ViTModel)(config).save_pretrained(folder)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder
