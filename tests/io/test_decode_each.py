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


@pytest.mark.parametrize(
    "fmt,size,orientation",
    [
        ("JPEG", (2400, 1600), None),
        ("JPEG", (700, 500), None),
        ("PNG", (1500, 1000), None),
        ("JPEG", (2000, 1200), 6),
        ("WEBP", (900, 600), None),
    ],
)
def test_each_side_is_what_decode_gives(fmt, size, orientation):
    raw = _bytes(fmt, size, orientation)
    from imagevars.io.decode import Cover

    sides = [256, None, 1024, 512, 256, 300, Cover(300), Cover(512), Cover(256)]
    for side, got in zip(sides, decode_each(raw, "x", sides)):
        want = decode(raw, "x", side)
        assert got.rgb.shape == want.rgb.shape
        assert np.array_equal(got.rgb, want.rgb), (fmt, side)
        assert (got.width, got.height, got.nbytes, got.format) == (want.width, want.height, want.nbytes, want.format)


def test_cover_keeps_the_shorter_side_and_decodes_alone_or_with_others_the_same():
    """Cover(512): the shorter side is 512 (aspect kept, a JPEG by DCT scaling first); the same pixels whether
    decoded alone or beside other sizes; an image already small enough is kept whole."""
    import io

    import skimage.data as data
    from PIL import Image

    from imagevars.io.decode import Cover, decode, decode_each, shrink

    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((4000, 3000)).save(buf, "JPEG", quality=90)
    jpeg = buf.getvalue()
    alone = decode(jpeg, "big.jpg", Cover(512))
    assert alone.rgb.shape == (512, 683, 3) and (alone.width, alone.height) == (4000, 3000)
    together = decode_each(jpeg, "big.jpg", [None, 512, Cover(512), Cover(256)])
    assert np.array_equal(together[2].rgb, alone.rgb) and together[1].rgb.shape == (384, 512, 3)
    assert np.array_equal(together[3].rgb, decode(jpeg, "big.jpg", Cover(256)).rgb)
    assert together[0].rgb.shape == (3000, 4000, 3)
    small = np.zeros((300, 500, 3), np.uint8)
    assert shrink(small, Cover(512)) is small and shrink(small, Cover(200)).shape == (200, 333, 3)


def test_detect_on_a_big_jpeg_decoded_by_cover_finds_what_the_full_decode_finds():
    """The cheap decode (DCT scaling to cover the 512 x 512 input) against decoding all 12 MP and resizing: the
    astronaut's person box in both, the same label, IoU >= 0.9, scores within 0.05."""
    import io

    import skimage.data as data
    from PIL import Image

    from imagevars.io.decode import decode
    from imagevars.tasks.detect import DetectTask

    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((4000, 3000), Image.Resampling.LANCZOS).save(buf, "JPEG", quality=92)
    task = DetectTask()
    cheap, _, _ = task.detections(decode(buf.getvalue(), "big.jpg", task.max_side))
    full, _, _ = task.detections(decode(buf.getvalue(), "big.jpg", None))
    a, b = cheap[cheap[:, 4] >= 0.3], full[full[:, 4] >= 0.3]
    assert len(a) == len(b) >= 1 and task.labels[int(a[0, 5])] == "person"
    for x, y in zip(a, b):
        w = max(0, min(x[2], y[2]) - max(x[0], y[0])) * max(0, min(x[3], y[3]) - max(x[1], y[1]))
        iou = w / ((x[2] - x[0]) * (x[3] - x[1]) + (y[2] - y[0]) * (y[3] - y[1]) - w)
        assert x[5] == y[5] and iou >= 0.9 and abs(x[4] - y[4]) <= 0.05
