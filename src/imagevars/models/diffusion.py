"""Text-to-image models (Stable Diffusion through diffusers): cards with each model's defaults.

References:
    - Rombach et al. (2022), "High-resolution image synthesis with latent diffusion models", CVPR
      (Stable Diffusion). Default: ``stable-diffusion-v1-5/stable-diffusion-v1-5``.
    - Sauer et al. (2023), "Adversarial diffusion distillation", arXiv:2311.17042 (SDXL-Turbo:
      one step, no guidance).

The weights live on the Hugging Face hub and are fetched once into ``$IMAGEVARS_HOME/hf``; any
other diffusers text-to-image repo id or a local folder written by ``save_pretrained`` works too
(see :class:`imagevars.generation.Generator`). The card's ``config`` holds the settings a
request uses when it does not give its own.
"""

from __future__ import annotations

from .registry import ModelCard, WeightsSource, register_model

GENERIC_DEFAULTS = {"steps": 25, "guidance": 7.5}  # any other pipeline; its size comes from its UNet


def _card(name: str, repo: str, defaults: dict, license: str, citation: str, description: str) -> ModelCard:
    return ModelCard(
        name=name, task="generate", labels=(), input_size=(defaults["height"], defaults["width"], 3),
        architecture="diffusers-text-to-image", config={"hf_repo": repo, **defaults},
        weights=WeightsSource(filename="model_index.json", sha256="", hf_repo=repo, revision=None),
        license=license, citation=citation, description=description,
    )


GENERATORS = [
    _card("stable-diffusion-1.5", "stable-diffusion-v1-5/stable-diffusion-v1-5",
          {"steps": 25, "guidance": 7.5, "width": 512, "height": 512},
          "CreativeML OpenRAIL-M (see the model's page on the Hugging Face hub)",
          "Rombach et al. (2022), High-resolution image synthesis with latent diffusion models, CVPR.",
          "Stable Diffusion 1.5, 512x512 (hub, 4 GB; internet once)"),
    _card("sdxl-turbo", "stabilityai/sdxl-turbo",
          {"steps": 1, "guidance": 0.0, "width": 512, "height": 512},
          "Stability AI Non-Commercial Research Community License (see the model's page on the hub)",
          "Sauer et al. (2023), Adversarial diffusion distillation, arXiv:2311.17042.",
          "SDXL-Turbo: one step, no guidance, 512x512 (hub, 7 GB; internet once)"),
]

DEFAULT_GENERATOR = "stable-diffusion-1.5"


def _builder(card: ModelCard):
    def build(card: ModelCard = card, weights: str | None = None, **options):
        from ..generation.text_to_image import Generator

        return Generator(weights or card.name, **options)

    return build


for _c in GENERATORS:
    register_model(_c)(_builder(_c))
