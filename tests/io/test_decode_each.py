"""decode_each gives every task exactly the pixels decode() gives it alone, whatever other sides are asked for."""

import io

import numpy as np
import pytest
import skimage.data as data
from PIL import Image

from imagevars.io.decode import decode, decode_each


def _bytes(fmt, size, orientation=None):
    img = Image.fromarray(data.astronaut()).resize(size)
    buf = io.BytesIO()
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        img.save(buf, fmt, exif=exif)
    else:
        img.save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,size,orientation", [("JPEG", (2400, 1600), None), ("JPEG", (700, 500), None),
                                                  ("PNG", (1500, 1000), None), ("JPEG", (2000, 1200), 6),
                                                  ("WEBP", (900, 600), None)])
def test_each_side_is_what_decode_gives(fmt, size, orientation):
    raw = _bytes(fmt, size, orientation)
    sides = [256, None, 1024, 512, 256, 300]
    for side, got in zip(sides, decode_each(raw, "x", sides)):
        want = decode(raw, "x", side)
        assert got.rgb.shape == want.rgb.shape
        assert np.array_equal(got.rgb, want.rgb), (fmt, side)
        assert (got.width, got.height, got.nbytes, got.format) == (want.width, want.height, want.nbytes, want.format)
