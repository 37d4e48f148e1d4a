"""Test models without internet: tiny random pipelines, and folders placed in the hub cache as a download would.

For tests and timing: the pipeline classes, the VAE's scale factor (8), the text encoder's
77-token limit and the whole loading path are real; the weights draw noise. Built as
diffusers' own tests build theirs (``get_dummy_components``). Random CLIP and SigLIP models
are :func:`imagevars.models.clip.save_random_clip` and :func:`~imagevars.models.clip.save_random_siglip`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ._extras import require


def save_random_pipeline(folder: str | Path, kind: str = "sd", seed: int = 0) -> Path:
    """Write a tiny random Stable Diffusion (``kind="sd"``) or SDXL (``"sdxl"``) pipeline to ``folder``.

    Example:
        >>> from imagevars.generation import Generator
        >>> g = Generator(str(save_random_pipeline(tmp)))  # doctest: +SKIP
    """
    if kind not in ("sd", "sdxl"):
        raise ValueError(f"kind must be 'sd' or 'sdxl', got {kind!r}")
    torch = require("torch", "building a random pipeline")
    require("diffusers", "building a random pipeline")
    import diffusers
    import transformers

    from .models.clip import byte_tokenizer

    folder = Path(folder)
    torch.manual_seed(seed)
    tokenizer = byte_tokenizer(folder / "_tokenizer")
    text = dict(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                num_attention_heads=2, max_position_embeddings=77, bos_token_id=len(tokenizer) - 2,
                eos_token_id=len(tokenizer) - 1, pad_token_id=len(tokenizer) - 1)
    vae = diffusers.AutoencoderKL(block_out_channels=[8] * 4, down_block_types=["DownEncoderBlock2D"] * 4,
                                  up_block_types=["UpDecoderBlock2D"] * 4, latent_channels=4, norm_num_groups=4,
                                  layers_per_block=1, sample_size=64)  # 4 blocks: scale factor 8
    scheduler = diffusers.EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                                   steps_offset=1)
    unet = dict(block_out_channels=(8, 16), layers_per_block=1, sample_size=8, norm_num_groups=4,
                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=(2, 4))
    if kind == "sd":
        pipe = diffusers.StableDiffusionPipeline(
            unet=diffusers.UNet2DConditionModel(cross_attention_dim=16, **unet), vae=vae,
            text_encoder=transformers.CLIPTextModel(transformers.CLIPTextConfig(**text)), tokenizer=tokenizer,
            scheduler=scheduler, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    else:  # SDXL: two text encoders (the second with a projection) and size/crop conditioning
        time_dim = 8
        pipe = diffusers.StableDiffusionXLPipeline(
            unet=diffusers.UNet2DConditionModel(cross_attention_dim=32, addition_embed_type="text_time",
                                                addition_time_embed_dim=time_dim,
                                                projection_class_embeddings_input_dim=6 * time_dim + 16, **unet),
            vae=vae, text_encoder=transformers.CLIPTextModel(transformers.CLIPTextConfig(**text)),
            text_encoder_2=transformers.CLIPTextModelWithProjection(transformers.CLIPTextConfig(projection_dim=16, **text)),
            tokenizer=tokenizer, tokenizer_2=tokenizer, scheduler=scheduler)
    pipe.save_pretrained(folder)
    return folder


def put_in_hub_cache(folder: str | Path, repo: str, cache: str | Path,
                     commit: str = "0123456789abcdef0123456789abcdef01234567") -> Path:
    """Copy ``folder`` into the Hugging Face cache layout under ``cache`` as snapshot ``commit`` of ``repo``.

    The hub libraries then load ``repo`` offline from it, exactly as after a download.

    Example:
        >>> put_in_hub_cache("tiny-sd/", "someone/tiny-sd", "cache/hf")  # doctest: +SKIP
        PosixPath('cache/hf/models--someone--tiny-sd/snapshots/0123456789abcdef0123456789abcdef01234567')
    """
    root = Path(cache) / ("models--" + repo.replace("/", "--"))
    snapshot = root / "snapshots" / commit
    shutil.copytree(folder, snapshot)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(commit)
    return snapshot
