"""Text-to-image generation (diffusers) and a Telegram bot in front of imagevars.

Generated images serve as controlled stimuli: each is reproducible from its prompt, seed, model
and settings, and each carries its row (in the table and in the PNG itself).

Example:
    >>> from imagevars.generation import generate
    >>> generate("Lithograph of a camel eating a pear", "stimuli", n=4, seed=7)  # doctest: +SKIP
"""

from ..models.diffusion import SEED_MAX, GenerationError, Generator, Request
from .design import expand, read_design
from .session import generate, pixel_sha256, read_png_row

__all__ = [
    "generate",
    "Generator",
    "Request",
    "GenerationError",
    "SEED_MAX",
    "read_design",
    "expand",
    "pixel_sha256",
    "read_png_row",
]
