"""Text-to-image models (Stable Diffusion through diffusers): cards with each model's defaults.

References:
    - Rombach et al. (2022), "High-resolution image synthesis with latent diffusion models", CVPR
      (Stable Diffusion). Default: ``stable-diffusion-v1-5/stable-diffusion-v1-5``.
    - Sauer et al. (2023), "Adversarial diffusion distillation", arXiv:2311.17042 (SDXL-Turbo:
      one step, no guidance).

The weights live on the Hugging Face hub and are fetched once into ``$IMAGEVARS_HOME/hf``; any
other diffusers text-to-image repo id or a local folder written by ``save_pretrained`` works too
(see :class:`Generator` below). The card's ``config`` holds the settings a
request uses when it does not give its own.

A :class:`Generator` is one such model, loaded once, that turns a checked :class:`Request` into
one image. Reproducibility: each image is drawn alone (batch of one) from a ``torch.Generator``
on the CPU seeded with the request's seed, so the same prompt, seed, model, revision, scheduler
and settings give the same pixels on the same machine, whatever else is generated in the same
run. The starting noise does not depend on the device; the arithmetic after it does, so a GPU
and a CPU draw slightly different images from the same seed.
"""

from __future__ import annotations

import inspect
import math
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .._extras import require
from .card import ModelCard, hub_card
from .hub import from_pretrained, snapshot_commit, split_spec
from .registry import register_model

GENERIC_DEFAULTS = {"steps": 25, "guidance": 7.5}  # any other pipeline; its size comes from its UNet


def _card(name: str, repo: str, defaults: dict, license: str, citation: str, description: str) -> ModelCard:
    return hub_card(
        name,
        repo,
        task="generate",
        side=defaults["height"],
        architecture="diffusers-text-to-image",
        filename="model_index.json",
        config=defaults,
        license=license,
        citation=citation,
        description=description,
    )


GENERATORS = [
    _card(
        "stable-diffusion-1.5",
        "stable-diffusion-v1-5/stable-diffusion-v1-5",
        {"steps": 25, "guidance": 7.5, "width": 512, "height": 512},
        "CreativeML OpenRAIL-M (see the model's page on the Hugging Face hub)",
        "Rombach et al. (2022), High-resolution image synthesis with latent diffusion models, CVPR.",
        "Stable Diffusion 1.5, 512x512 (hub, 4 GB; internet once)",
    ),
    _card(
        "sdxl-turbo",
        "stabilityai/sdxl-turbo",
        {"steps": 1, "guidance": 0.0, "width": 512, "height": 512},
        "Stability AI Non-Commercial Research Community License (see the model's page on the hub)",
        "Sauer et al. (2023), Adversarial diffusion distillation, arXiv:2311.17042.",
        "SDXL-Turbo: one step, no guidance, 512x512 (hub, 7 GB; internet once)",
    ),
]

DEFAULT_GENERATOR = "stable-diffusion-1.5"


def _builder(card: ModelCard):
    def build(card: ModelCard = card, weights: str | None = None, pretrained: bool = True, **options):
        return Generator(weights or card.name, pretrained=pretrained, **options)

    return build


for _c in GENERATORS:
    register_model(_c)(_builder(_c))


SEED_MAX = 2**32 - 1  # seeds are 0 .. 2**32 - 1, the range most generation tools accept
DTYPES = ("float32", "float16", "bfloat16")
SCHEDULERS = {  # --scheduler name -> diffusers class (the model's own scheduler when not given)
    "ddim": "DDIMScheduler",
    "dpm++": "DPMSolverMultistepScheduler",
    "euler": "EulerDiscreteScheduler",
    "euler-a": "EulerAncestralDiscreteScheduler",
    "lms": "LMSDiscreteScheduler",
    "pndm": "PNDMScheduler",
}


class GenerationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Request:
    """What to draw. Settings left as None take the model's defaults (see :meth:`Generator.check`)."""

    prompt: str
    seed: int = 0
    negative_prompt: str = ""
    steps: int | None = None  # denoising steps
    guidance: float | None = None  # classifier-free guidance scale (0 or 1: none)
    width: int | None = None  # pixels; a multiple of the VAE's scale factor (8)
    height: int | None = None


class Generator:
    """A diffusers text-to-image pipeline (Stable Diffusion 1.5-class, SDXL-class) on one device.

    ``model`` is a registered name (``stable-diffusion-1.5``, ``sdxl-turbo``; see
    ``imagevars models``), a hub repo id with an optional ``@revision``, or a local folder written
    by ``save_pretrained``. Hub weights are cached under ``$IMAGEVARS_HOME/hf``; with
    ``IMAGEVARS_OFFLINE=1`` they are read only from there.

    Example:
        >>> g = Generator("sdxl-turbo")  # doctest: +SKIP
        >>> image, info = g.image(g.check(Request("Lithograph of a camel eating a pear", seed=7)))  # doctest: +SKIP
    """

    def __init__(
        self,
        model: str = DEFAULT_GENERATOR,
        *,
        revision: str | None = None,
        scheduler: str | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        threads: int | None = None,
        pretrained: bool = True,
    ):
        require("diffusers", "text-to-image generation")
        torch = require("torch", "text-to-image generation")
        import diffusers

        from .._env import threads as default_threads
        from ..models.registry import get_card, list_models

        # 1. Resolve the name: a card gives repo and defaults; otherwise repo[@revision] or a folder
        defaults: dict[str, Any] = dict(GENERIC_DEFAULTS)
        self.name = model
        if model in list_models() and get_card(model).task == "generate":
            card = get_card(model)
            repo = card.config["hf_repo"]
            defaults.update({k: card.config[k] for k in ("steps", "guidance", "width", "height")})
        else:
            repo, rev = split_spec(model)
            revision = revision or rev
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if scheduler is not None and scheduler not in SCHEDULERS:
            raise ValueError(f"unknown scheduler {scheduler!r}; choose one of {', '.join(SCHEDULERS)}")

        # 2. Load the pipeline (hub cache or local folder) and put it on the device
        torch.set_num_threads(threads or default_threads())
        if pretrained:
            (pipe,) = from_pretrained(
                repo,
                revision,
                "text-to-image model",
                GenerationError,
                diffusers.AutoPipelineForText2Image,
                dtype=getattr(torch, dtype),
            )
        else:
            pipe = random_pipeline(repo, revision).to(dtype=getattr(torch, dtype))
        if scheduler is not None:
            pipe.scheduler = getattr(diffusers, SCHEDULERS[scheduler]).from_config(pipe.scheduler.config)
        pipe.set_progress_bar_config(disable=True)
        self.pipe = pipe.to(device)

        # 3. What the rows and the provenance record
        self.repo, self.revision, self.device, self.dtype = repo, revision, device, dtype
        self.commit = snapshot_commit(repo, revision)
        self.scale = int(getattr(pipe, "vae_scale_factor", 8))
        side = int(pipe.unet.config.sample_size) * self.scale if hasattr(pipe, "unet") else 512
        defaults.setdefault("width", side)
        defaults.setdefault("height", side)
        self.defaults = defaults
        self.max_tokens = int(pipe.tokenizer.model_max_length)

    @property
    def scheduler(self) -> str:
        return type(self.pipe.scheduler).__name__

    def provenance(self) -> dict[str, Any]:
        import diffusers
        import torch

        return {
            "model": self.name,
            "repo": self.repo,
            "revision": self.revision,
            "commit": self.commit,
            "pipeline": type(self.pipe).__name__,
            "scheduler": self.scheduler,
            "scheduler_config": {k: v for k, v in dict(self.pipe.scheduler.config).items() if not k.startswith("_")},
            "device": self.device,
            "dtype": self.dtype,
            "defaults": self.defaults,
            "diffusers": diffusers.__version__,
            "torch": torch.__version__,
        }

    def check(self, request: Request) -> Request:
        """The request with the model's defaults filled in, or a ValueError that names the fix."""
        r = request
        if not isinstance(r.prompt, str) or not r.prompt.strip():
            raise ValueError("the prompt is empty: say in words what the image should show")
        if isinstance(r.seed, bool) or not isinstance(r.seed, int) or not 0 <= r.seed <= SEED_MAX:
            raise ValueError(f"seed {r.seed!r} is out of range: use a whole number from 0 to {SEED_MAX}")
        r = replace(
            r,
            **{k: v for k, v in self.defaults.items() if getattr(r, k) is None},
            negative_prompt=r.negative_prompt or "",
        )
        if isinstance(r.steps, bool) or not isinstance(r.steps, int) or r.steps < 1:
            raise ValueError(f"steps must be a whole number of at least 1, got {r.steps!r}")
        if not isinstance(r.guidance, (int, float)) or not math.isfinite(r.guidance) or r.guidance < 0:
            raise ValueError(f"guidance must be a number of at least 0, got {r.guidance!r}")
        for name in ("width", "height"):
            v = getattr(r, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < self.scale:
                raise ValueError(f"{name} must be a whole number of pixels of at least {self.scale}, got {v!r}")
            if v % self.scale:
                lo, hi = v // self.scale * self.scale, (v // self.scale + 1) * self.scale
                raise ValueError(
                    f"{name} {v} is not divisible by {self.scale} (the VAE works in blocks of "
                    f"{self.scale} pixels): use {lo} or {hi}"
                )
        return replace(r, guidance=float(r.guidance))

    def prompt_tokens(self, prompt: str) -> int:
        """Tokens the text encoder would read from ``prompt``, start and end tokens included."""
        return len(self.pipe.tokenizer(prompt, truncation=False, verbose=False)["input_ids"])

    def image(self, request: Request):
        """Draw one image for a checked request: (PIL image, info with tokens, truncation, nsfw flag, seconds).

        A prompt longer than the text encoder reads is truncated (by the pipeline) with a warning.
        """
        import torch

        r = request
        tokens = self.prompt_tokens(r.prompt)
        if tokens > self.max_tokens:
            warnings.warn(
                f"the prompt is {tokens} tokens long and the text encoder reads {self.max_tokens}: "
                f"the words after that are ignored ({r.prompt[:60]!r}...)",
                stacklevel=2,
            )
        t0 = time.perf_counter()
        out = self.pipe(
            prompt=r.prompt,
            negative_prompt=r.negative_prompt or None,
            num_inference_steps=r.steps,
            guidance_scale=r.guidance,
            width=r.width,
            height=r.height,
            num_images_per_prompt=1,
            generator=torch.Generator("cpu").manual_seed(r.seed),
        )
        seconds = time.perf_counter() - t0
        nsfw = getattr(out, "nsfw_content_detected", None)
        return out.images[0], {
            "prompt_tokens": tokens,
            "prompt_truncated": tokens > self.max_tokens,
            "nsfw": bool(nsfw[0]) if nsfw else None,
            "seconds": round(seconds, 4),
        }


def random_pipeline(repo: str, revision: str | None = None):
    """The pipeline that ``model_index.json`` describes, each network with random weights.

    Only the configurations, tokenizers and scheduler settings are read (from a local folder or
    the hub cache, fetched unless offline); no weights. What ``create_model(name, pretrained=False)``
    builds for a text-to-image model.
    """
    import importlib

    import diffusers
    import transformers

    from .hub import cache_dir, load_error, local_only

    local = Path(repo).is_dir()
    where = {} if local else {"revision": revision, "cache_dir": cache_dir(), "local_files_only": local_only()}
    try:
        index = diffusers.DiffusionPipeline.load_config(repo, **where)
        parts = {}
        for name, spec in index.items():
            if name.startswith("_") or not isinstance(spec, (list, tuple)):
                continue
            library, class_name = spec
            if library is None:
                parts[name] = None
                continue
            cls = getattr(importlib.import_module(library), class_name)  # as diffusers resolves model_index.json
            if issubclass(cls, diffusers.ModelMixin):
                parts[name] = cls.from_config(cls.load_config(repo, subfolder=name, **where))
            elif issubclass(cls, transformers.PreTrainedModel):
                parts[name] = cls(transformers.AutoConfig.from_pretrained(repo, subfolder=name, **where))
            else:  # tokenizers, schedulers, feature extractors: small files, loaded as they are
                parts[name] = cls.from_pretrained(repo, subfolder=name, **where)
    except OSError as exc:
        raise GenerationError(load_error("text-to-image model", repo, local, exc)) from None
    pipeline = getattr(diffusers, index["_class_name"])
    if "requires_safety_checker" in inspect.signature(pipeline.__init__).parameters:
        parts["requires_safety_checker"] = parts.get("safety_checker") is not None
    return pipeline(**parts)
