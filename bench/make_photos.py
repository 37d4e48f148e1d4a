"""Generate a folder of real-size JPEGs (1-12 megapixels) from the real photos that ship with scikit-image.

Each file is one of scikit-image's photos (astronaut, chelsea, coffee, rocket,
retina, hubble, ...), randomly cropped, flipped and resized to a random size between 1 and 12
megapixels with a random aspect ratio, saved as a quality-90 JPEG; a few get an EXIF rotation.

    python bench/make_photos.py bench/data/jpegs --n 2000
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

SOURCES = ["astronaut", "chelsea", "coffee", "rocket", "retina", "hubble_deep_field", "immunohistochemistry", "camera"]


def _one(args):
    i, folder, seed = args
    import skimage.data as data

    rng = np.random.default_rng(seed + i)
    src = getattr(data, SOURCES[i % len(SOURCES)])()
    h, w = src.shape[:2]
    ch, cw = int(h * rng.uniform(0.6, 1)), int(w * rng.uniform(0.6, 1))
    y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
    img = Image.fromarray(src[y : y + ch, x : x + cw])
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    mp = rng.uniform(1, 12) * 1e6
    aspect = rng.choice([4 / 3, 3 / 2, 16 / 9, 1.0, 3 / 4, 2 / 3])
    W = int((mp * aspect) ** 0.5)
    H = int(mp / W)
    img = img.resize((W, H), Image.Resampling.BICUBIC)
    kw = {}
    if rng.random() < 0.1:
        exif = img.getexif()
        exif[0x0112] = int(rng.choice([3, 6, 8]))
        kw["exif"] = exif
    img.save(Path(folder) / f"photo_{i:05d}.jpg", quality=90, **kw)
    return W * H


def photo_files(folder: str, need: int) -> list[str]:
    """The JPEGs a benchmark reads, sorted; exits with the command to make them when too few."""
    files = sorted(str(f) for f in Path(folder).glob("*.jpg"))
    if len(files) < need:
        raise SystemExit(f"{folder} has {len(files)} JPEGs; make {need} with bench/make_photos.py {folder} --n {need}")
    return files


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    Path(args.folder).mkdir(parents=True, exist_ok=True)
    todo = [
        (i, args.folder, args.seed) for i in range(args.n) if not (Path(args.folder) / f"photo_{i:05d}.jpg").exists()
    ]
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        pixels = list(pool.map(_one, todo, chunksize=8))
    if pixels:
        print(f"wrote {len(pixels)} JPEGs, {np.mean(pixels) / 1e6:.1f} MP on average, to {args.folder}")


if __name__ == "__main__":
    main()
