"""``hash``: perceptual hashes, for finding reposts, stock photos and near-copies. The codebook.

Each hash is 64 bits written as 16 hexadecimal digits, computed by the ``imagehash`` package
(Buchner, BSD-2) on the image decoded with EXIF orientation applied, converted to 8-bit RGB and
shrunk so its longer side is at most ``size`` pixels (default 256; the hashes work on 32 and 9
pixel thumbnails, so the working size barely matters, and it is fixed so that a run alone and a
run with other tasks give the same hashes). Two images' distance is the Hamming distance of
their hashes: the number of the 64 bits that differ, 0 for identical thumbnails. Measured on
scikit-image's nine photos (``tests/tasks/test_hash.py``): a JPEG re-saved at quality 30, the
image at half size, or 20% brighter moved pHash by 0-4 bits; cutting 5% off each side moved it
by 4-18 (hashes see the whole frame: crops are not near-copies to them); a mirror image, or an
unrelated photo, is 24-42 away. ``imagevars duplicates`` groups a table's images by that distance.

Columns (``hash_`` + name):

====== ===================================================================================
phash  perceptual hash: the signs of the 8 x 8 lowest frequencies of the 2-D DCT of a 32 x 32
       greyscale thumbnail against their median (Zauner 2010, "Implementation and
       benchmarking of perceptual image hash functions", MSc thesis; imagehash.phash)
dhash  difference hash: whether each pixel of a 9 x 8 greyscale thumbnail is brighter than its
       right-hand neighbour (Krawetz 2013, "Kinda like that", hackerfactor.com; imagehash.dhash)
====== ===================================================================================

Every flat image (all black, all white, one colour) has the pHash ``8000000000000000`` and the
dHash ``0000000000000000`` (no frequency but the mean, no pixel brighter than its neighbour):
flat images are all "duplicates" of each other, which is what they are.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np  # noqa: F401 - the examples below use it

from .base import Task

KINDS = ("phash", "dhash")


def hashes(decoded, size: int = 256) -> dict[str, str]:
    """The pHash and dHash of one decoded image, as 16 hexadecimal digits each (runs in the decode workers).

    Example:
        >>> from types import SimpleNamespace
        >>> flat = SimpleNamespace(rgb=np.full((40, 60, 3), 255, np.uint8))
        >>> hashes(flat)
        {'phash': '8000000000000000', 'dhash': '0000000000000000'}
    """
    import imagehash
    from PIL import Image

    from ..io.decode import shrink

    img = Image.fromarray(shrink(decoded.rgb, size))
    return {"phash": str(imagehash.phash(img)), "dhash": str(imagehash.dhash(img))}


class HashTask(Task):
    """Perceptual hashes (see the module docstring), the input of ``imagevars duplicates``.

    Args:
        size: longest side, in pixels, of the image the hashes are computed from (default 256).

    Example:
        >>> import imagevars
        >>> imagevars.run(["hash"], "PHOTOS/").to_pandas()["hash_phash"]  # doctest: +SKIP
    """

    name = "hash"
    per_worker = None  # no model: its calls run wherever the run's models do

    def __init__(self, size: int = 256):
        from .._extras import require

        require("imagehash", "the hash task")
        if size < 32:
            raise ValueError(f"hash size must be at least 32 pixels (pHash reads a 32 x 32 thumbnail), got {size}")
        self.size = self.max_side = size

    def params(self) -> dict[str, Any]:
        return {"size": self.size}

    def preprocessor(self):
        return functools.partial(hashes, size=self.size)

    def fields(self) -> list:
        import pyarrow as pa

        return [pa.field(f"hash_{k}", pa.string()) for k in KINDS]

    def __call__(self, batch: list[dict[str, str]]) -> dict[str, list]:
        return {f"hash_{k}": [row[k] for row in batch] for k in KINDS}
