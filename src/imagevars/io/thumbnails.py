"""Small JPEG copies of images as ``data:`` URIs, for pages that must work from ``file://`` alone."""

from __future__ import annotations

from .decode import decode
from .sources import read_source


def thumbnail_uri(source: str, side: int = 1024, quality: int = 85) -> str:
    """The image ``source`` as a JPEG ``data:`` URI, its longer side at most ``side`` px (EXIF orientation
    applied): for pages that must work from ``file://`` with nothing beside them."""
    return jpeg_uri(decode(read_source(source), source, max_side=side).rgb, quality)


def jpeg_uri(image, quality: int = 85) -> str:
    """An RGB array or PIL image as a JPEG ``data:`` URI."""
    import base64
    import io

    from PIL import Image

    img = image if isinstance(image, Image.Image) else Image.fromarray(image)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
