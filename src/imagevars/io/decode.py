"""Bytes to pixels: EXIF orientation, every colour mode to RGB or greyscale, and a pixel limit.

One place decides how a file becomes pixels, so training, evaluation and measurement see
images the same way.
"""

from __future__ import annotations

import os
import stat
from typing import Literal

import numpy as np

#: Images above this many pixels are refused (decompression-bomb guard): 20,000 x 20,000 is over.
MAX_PIXELS = 178_956_970  # Pillow's own default threshold for DecompressionBombError
MAX_FILE_BYTES = 1 << 30  # 1 GiB: larger than any photo or scan imagevars expects; refused with a row

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})
_GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})


class DecodeError(ValueError):
    """A file could not be read as an image."""


def is_greyscale(mode: str) -> bool:
    """True for Pillow modes with one colour channel (alpha aside)."""
    return mode in _GREY_MODES


def not_an_image(head: bytes) -> str:
    """Why bytes Pillow cannot identify are not an image, from their first bytes: a video or an HTML page
    under an image's name (a server's error page saved as .jpg), or something else.

    Example:
        >>> not_an_image(b"<!DOCTYPE html><html>")
        "an HTML page, not an image (a server's error or login page saved under an image's name?)"
        >>> not_an_image(b"\\x00\\x00\\x00\\x18ftypmp42")
        'a video (MP4/MOV), not an image: give it a video suffix (.mp4) to sample its frames'
    """
    start = bytes(head[:512]).lstrip().lower()
    if head[4:8] == b"ftyp" or head[:4] == b"\x1aE\xdf\xa3" or (head[:4] == b"RIFF" and head[8:12] == b"AVI "):
        kind = "MP4/MOV" if head[4:8] == b"ftyp" else "Matroska/WebM" if head[:1] == b"\x1a" else "AVI"
        return f"a video ({kind}), not an image: give it a video suffix (.mp4) to sample its frames"
    if start.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) and b"<svg" not in start:
        return "an HTML page, not an image (a server's error or login page saved under an image's name?)"
    return "not an image Pillow can read"


def probe(path: str | os.PathLike) -> tuple[int, int, str]:
    """(width, height, Pillow mode) from a file's header, without decoding its pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return img.size[0], img.size[1], img.mode
    except UnidentifiedImageError:
        with open(path, "rb") as f:
            raise DecodeError(f"{path}: {not_an_image(f.read(512))}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise DecodeError(f"{path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def read_file(path: str | os.PathLike, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, at most ``max_bytes``; anything else raises :class:`DecodeError` naming it.

    Missing, unreadable, a folder, a FIFO or device (which would block or never end: ``/dev/zero``),
    or larger than the cap: each is refused with a one-line reason, before reading.
    """
    if not os.fspath(path):
        raise DecodeError("empty path in the input")
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode) and st.st_size > max_bytes:
            raise DecodeError(f"{path}: {st.st_size:,} bytes is over the size cap of {max_bytes:,} for one image")
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            raise DecodeError(f"{path}: not a regular file (a FIFO, device or socket); only files are read")
        with open(path, "rb") as f:
            return f.read(max_bytes + 1)
    except FileNotFoundError:
        raise DecodeError(f"{path}: file not found") from None
    except IsADirectoryError:
        if not os.access(path, os.R_OK | os.X_OK):
            raise DecodeError(
                f"{path}: a folder that cannot be read (permission denied): its images are not measured"
            ) from None
        raise DecodeError(f"{path}: is a folder, not an image") from None
    except PermissionError:
        raise DecodeError(f"{path}: permission denied") from None


def to_mode(img, mode: Literal["RGB", "L"]):
    """Convert any Pillow image to 8-bit RGB or L; transparency is composited on white.

    16-bit and float greyscale are rescaled by their type's range rather than clipped.
    """
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        top = (
            65535.0
            if img.mode.startswith("I;16") or (img.mode == "I" and a.max() > 255)
            else (1.0 if img.mode == "F" and a.max() <= 1 else 255.0)
        )
        img = Image.fromarray(np.clip(a / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(canvas, rgba).convert("RGB")
    return img.convert(mode) if img.mode != mode else img


def load_array(path: str | os.PathLike, size: int | None, channels: int, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A file as a uint8 (H, W, C) array, decoded by :func:`decode`, resized to size x size
    (bilinear, aspect not kept) if given.

    Example:
        >>> import tempfile, PIL.Image
        >>> p = tempfile.mktemp(suffix=".png"); PIL.Image.new("RGBA", (40, 30)).save(p)
        >>> load_array(p, 28, 3).shape
        (28, 28, 3)
    """
    return fit_array(decode(read_file(path), str(path), max_pixels=max_pixels).rgb, size, channels)


def fit_array(rgb: np.ndarray, size: int | None, channels: int) -> np.ndarray:
    """An RGB uint8 (H, W, 3) array as (size, size, channels): bilinear resize, greyscale if 1 channel.

    Example:
        >>> fit_array(np.zeros((30, 40, 3), np.uint8), 28, 1).shape
        (28, 28, 1)
    """
    from PIL import Image

    img = Image.fromarray(rgb)
    if channels == 1:
        img = img.convert("L")  # exact for grey sources: R = G = B and the BT.601 weights sum to 1
    if size is not None and img.size != (size, size):
        img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    a = np.asarray(img, dtype=np.uint8)
    return a[:, :, None] if a.ndim == 2 else a


class Decoded:
    """An image ready for a task: RGB pixels (possibly reduced) and facts about the original file."""

    __slots__ = ("rgb", "width", "height", "nbytes", "format", "mode")

    def __init__(self, rgb: np.ndarray, width: int, height: int, nbytes: int, format: str, mode: str):
        self.rgb = rgb  # (H, W, 3) uint8
        self.width, self.height = width, height  # of the original, after EXIF orientation
        self.nbytes, self.format, self.mode = nbytes, format, mode


class Cover(int):
    """A working size given as the *shorter* side: shrink no further than to cover ``side`` x ``side`` (aspect
    kept), for a model that takes a square input whatever the photo's shape (``detect``). A plain int is the
    longer side's limit. Decoding 4000x3000 for a 512 x 512 input: Cover(512) gives 683x512 (libjpeg's DCT
    scaling to 1000x750, then resized), where a longer-side limit of 1024 decodes 2000x1500.

    Example:
        >>> Cover(512), Cover(512) == 512, isinstance(Cover(512), Cover)
        (Cover(512), True, True)
    """

    def __repr__(self) -> str:
        return f"Cover({int(self)})"

    def __reduce__(self):
        return Cover, (int(self),)


def _target(w: int, h: int, side) -> tuple[int, int] | None:
    """The size (w, h) an image of w x h is shrunk to for ``side``, or None if it is kept whole."""
    if not side:
        return None
    if isinstance(side, Cover):
        short = min(w, h)
        return None if short <= side else (max(side, round(w * side / short)), max(side, round(h * side / short)))
    long = max(w, h)
    return None if long <= side else (max(1, round(w * side / long)), max(1, round(h * side / long)))


def _drafts(fmt: str, w: int, h: int, side) -> bool:
    """Whether a JPEG of w x h is decoded at reduced size (DCT scaling) for ``side``: when it is over twice as big."""
    return bool(side) and fmt == "JPEG" and (min(w, h) if isinstance(side, Cover) else max(w, h)) > 2 * side


def _thumbnail(img, side):
    """The PIL image shrunk so its longer side is at most ``side`` (an int), or its shorter side is ``side``
    (a :class:`Cover`), aspect kept."""
    from PIL import Image

    if isinstance(side, Cover):
        size = _target(*img.size, side)
        return img if size is None else img.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    if side and max(img.size) > side:
        img.thumbnail((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return img


def shrink(rgb: np.ndarray, max_side) -> np.ndarray:
    """An RGB array shrunk for ``max_side`` (the longer side's limit, or a :class:`Cover`) exactly as
    :func:`decode` shrinks images.

    Example:
        >>> shrink(np.zeros((300, 400, 3), np.uint8), 100).shape, shrink(np.zeros((300, 400, 3), np.uint8), Cover(100)).shape
        ((75, 100, 3), (100, 133, 3))
    """
    if _target(rgb.shape[1], rgb.shape[0], max_side) is None:
        return rgb
    from PIL import Image

    return np.asarray(_thumbnail(Image.fromarray(rgb), max_side))


def decode(data: bytes, name: str, max_side: int | Cover | None = None, max_pixels: int = MAX_PIXELS) -> Decoded:
    """Decode image bytes to RGB, orientation applied, shrunk so its longer side is at most ``max_side`` (or, for a
    :class:`Cover`, its shorter side is ``max_side``).

    JPEGs are decoded at reduced size by libjpeg's DCT scaling (``Image.draft``) when that is
    enough for ``max_side``: a 12 MP photo needed at 640 px decodes 3x faster this way.

    Raises :class:`DecodeError` with a one-line reason naming ``name``.

    Example:
        >>> import io, PIL.Image
        >>> buf = io.BytesIO(); PIL.Image.new("L", (400, 300)).save(buf, "JPEG")
        >>> d = decode(buf.getvalue(), "x.jpg", max_side=100)
        >>> d.rgb.shape, (d.width, d.height)
        ((75, 100, 3), (400, 300))
    """
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise DecodeError(f"{name}: empty file (0 bytes)")
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size
        if w * h > max_pixels:
            raise DecodeError(
                f"{name}: {w}x{h} = {w * h:,} pixels is over the limit of {max_pixels:,} (possible decompression bomb)"
            )
        fmt, mode = img.format or "", img.mode
        orientation = img.getexif().get(0x0112, 1) if fmt in ("JPEG", "TIFF", "WEBP", "PNG") else 1
        if orientation in (5, 6, 7, 8):
            w, h = h, w
        if _drafts(fmt, w, h, max_side):
            scale = max_side / (min(w, h) if isinstance(max_side, Cover) else max(w, h))
            img.draft("RGB", (int(img.size[0] * scale) + 1, int(img.size[1] * scale) + 1))
        img.load()
        img = _thumbnail(to_mode(ImageOps.exif_transpose(img), "RGB"), max_side)
        return Decoded(np.asarray(img), w, h, len(data), fmt, mode)
    except DecodeError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own guard, above twice its limit
        raise DecodeError(
            f"{name}: {exc} (over the limit of {max_pixels:,} pixels; possible decompression bomb)"
        ) from None
    except UnidentifiedImageError:
        raise DecodeError(f"{name}: {not_an_image(data)}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise DecodeError(f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def decode_each(data: bytes, name: str, sides) -> list[Decoded]:
    """The image decoded once for each of ``sides``, each exactly as ``decode(data, name, side)`` gives it.

    Tasks run together get the very pixels they get alone, so a variable does not depend on
    which other tasks shared the run (a JPEG decoded at reduced size by DCT scaling differs a
    little from one decoded whole and shrunk). Each side that DCT scaling serves is decoded on
    its own (cheap: 1/2 to 1/8 of the pixels); the others share one whole decode, shrunk.

    Example:
        >>> import io, PIL.Image
        >>> buf = io.BytesIO(); PIL.Image.new("RGB", (2000, 1000)).save(buf, "JPEG")
        >>> [d.rgb.shape for d in decode_each(buf.getvalue(), "x.jpg", [256, None, 256])]
        [(128, 256, 3), (1000, 2000, 3), (128, 256, 3)]
    """
    keys = list(dict.fromkeys((type(s), s) for s in sides))  # Cover(512) and 512 are different sizes
    keys.sort(key=lambda k: float("inf") if k[1] is None else k[1] * (4 if k[0] is Cover else 1), reverse=True)
    first = decode(data, name, keys[0][1])  # the largest first: the others may be shrunk from it
    out = {keys[0]: first}
    whole = first.rgb.shape[:2] == (first.height, first.width)
    for key in keys[1:]:
        if whole and not _drafts(first.format, first.width, first.height, key[1]):
            out[key] = Decoded(
                shrink(first.rgb, key[1]), first.width, first.height, first.nbytes, first.format, first.mode
            )
        else:
            out[key] = decode(data, name, key[1])
    return [out[(type(s), s)] for s in sides]
