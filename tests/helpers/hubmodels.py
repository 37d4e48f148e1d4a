"""Tiny random hub models for tests, put into an offline Hugging Face cache as a download would."""

from __future__ import annotations

from pathlib import Path


def tiny_vit(folder: Path, hub_cache: Path, repo: str = "someone/tiny-vit", classes: int = 0) -> Path:
    """A 16-wide, one-layer ViT for 32 px images (seeded), saved to ``folder`` and cached as ``repo``:
    a backbone, or an image classifier with ``classes`` classes."""
    import torch
    import transformers

    from imagevars.testing import put_in_hub_cache

    torch.manual_seed(0)
    config = transformers.ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=max(classes, 2),
    )
    (transformers.ViTForImageClassification if classes else transformers.ViTModel)(config).save_pretrained(folder)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    put_in_hub_cache(folder, repo, hub_cache)
    return folder
