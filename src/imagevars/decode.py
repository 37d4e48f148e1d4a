"""Bytes to pixels: EXIF orientation, every colour mode to RGB or greyscale, and a pixel limit.

One place decides how a file becomes pixels, so training, evaluation and measurement see
images the same way.
"""

from __future__ import annotations

import os
from typing import Literal

import numpy as np

#: Images above this many pixels are refused (decompression-bomb guard): 20,000 x 20,000 is over.
MAX_PIXELS = 178_956_970  # Pillow's own default threshold for DecompressionBombError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})
_GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})


class DecodeError(ValueError):
    """A file could not be read as an image."""


def is_greyscale(mode: str) -> bool:
    """True for Pillow modes with one colour channel (alpha aside)."""
    return mode in _GREY_MODES


def open_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS):
    """Open an image file with Pillow, orientation applied, refusing oversized images.

    Raises :class:`DecodeError` naming the file for anything that is not a readable image.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        if os.path.getsize(path) == 0:
            raise DecodeError(f"{path}: empty file (0 bytes)")
        img = Image.open(path)
        w, h = img.size
        if w * h > max_pixels:
            raise DecodeError(f"{path}: {w}x{h} = {w * h:,} pixels is over the limit of {max_pixels:,} (possible decompression bomb)")
        img.load()
        return ImageOps.exif_transpose(img)
    except DecodeError:
        raise
    except UnidentifiedImageError:
        raise DecodeError(f"{path}: not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DecodeError(f"{path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def to_mode(img, mode: Literal["RGB", "L"]):
    """Convert any Pillow image to 8-bit RGB or L; transparency is composited on white.

    16-bit and float greyscale are rescaled by their type's range rather than clipped.
    """
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or (img.mode == "I" and a.max() > 255) else (1.0 if img.mode == "F" and a.max() <= 1 else 255.0)
        img = Image.fromarray(np.clip(a / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(canvas, rgba).convert("RGB")
    return img.convert(mode) if img.mode != mode else img


def load_array(path: str | os.PathLike, size: int | None, channels: int, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A file as a uint8 (H, W, C) array, resized to size x size (bilinear, aspect not kept) if given.

    Example:
        >>> import tempfile, PIL.Image
        >>> p = tempfile.mktemp(suffix=".png"); PIL.Image.new("RGBA", (40, 30)).save(p)
        >>> load_array(p, 28, 3).shape
        (28, 28, 3)
    """
    from PIL import Image

    img = to_mode(open_image(path, max_pixels), "L" if channels == 1 else "RGB")
    if size is not None and img.size != (size, size):
        img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    a = np.asarray(img, dtype=np.uint8)
    return a[:, :, None] if a.ndim == 2 else a
