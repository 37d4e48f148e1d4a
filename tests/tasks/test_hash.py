"""Perceptual hashes on real photos: edits of one photo stay close, different photos are far apart."""

import io

import numpy as np
import pytest
import skimage.data as data
from PIL import Image, ImageEnhance

import imagevars
from imagevars.duplicates import parse_hashes, popcount
from imagevars.tasks.hash import HashTask, hashes

PHOTOS = [
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "camera",
    "page",
    "text",
    "hubble_deep_field",
    "immunohistochemistry",
]


class _D:
    def __init__(self, rgb):
        self.rgb = rgb


def _rgb(name):
    a = getattr(data, name)()
    return np.stack([a] * 3, -1) if a.ndim == 2 else a[..., :3]


def _distance(a, b, kind="phash"):
    codes, _ = parse_hashes([a[kind], b[kind]])
    return int(popcount(codes[:1] ^ codes[1:])[0])


def _edits(a):
    h, w = a.shape[:2]
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=30)
    return {
        "jpeg q30": np.asarray(Image.open(buf)),
        "half size": np.asarray(Image.fromarray(a).resize((w // 2, h // 2))),
        "20% brighter": np.asarray(ImageEnhance.Brightness(Image.fromarray(a)).enhance(1.2)),
    }


@pytest.mark.parametrize("name", PHOTOS)
def test_edits_of_a_photo_stay_within_four_bits(name):
    a = _rgb(name)
    base = hashes(_D(a))
    for what, edited in _edits(a).items():
        assert _distance(base, hashes(_D(edited))) <= 4, what
    assert _distance(base, hashes(_D(a[:, ::-1]))) >= 20  # a mirror image is another picture to a hash


def test_different_photos_are_far_apart():
    hs = [hashes(_D(_rgb(n))) for n in PHOTOS]
    for kind in ("phash", "dhash"):
        d = [_distance(hs[i], hs[j], kind) for i in range(len(hs)) for j in range(i + 1, len(hs))]
        assert min(d) >= 20, kind


def test_hash_is_imagehash_of_the_image_at_its_working_size():
    import imagehash

    from imagevars.io.decode import shrink

    a = _rgb("astronaut")
    working = Image.fromarray(shrink(a, 256))
    assert hashes(_D(a)) == {"phash": str(imagehash.phash(working)), "dhash": str(imagehash.dhash(working))}


def test_run_alone_and_beside_other_tasks_gives_the_same_table(tmp_path):
    """Each task gets its image at its own size: a JPEG decoded for `detect` at 1024 px is not hashed."""
    for i, name in enumerate(["astronaut", "coffee", "chelsea"]):
        big = Image.fromarray(_rgb(name)).resize((2400, 1800))
        big.save(tmp_path / f"{i}.jpg", quality=92)
    alone = imagevars.run(["hash"], str(tmp_path), workers=0).to_pandas()
    quality = imagevars.run(["quality"], str(tmp_path), workers=0).to_pandas()
    both = imagevars.run(["hash", "quality", "detect"], str(tmp_path), workers=0).to_pandas()
    for col in ("hash_phash", "hash_dhash"):
        assert both[col].tolist() == alone[col].tolist()
    for col in ("quality_sharpness", "quality_brightness", "quality_edge_density"):
        assert both[col].tolist() == quality[col].tolist()


def test_bad_size_is_refused():
    with pytest.raises(ValueError, match="at least 32"):
        HashTask(size=8)
