"""Real photos of things ImageNet names, fetched from the package registries: an evaluation set for the classifier.

    python bench/real_photos.py bench/data/real

The bench photos (``make_photos.py``) are crops of eight scikit-image pictures, mostly of nothing
ImageNet has a class for, so a classifier's top two classes there are near ties. Judging an
int8 copy by whether its top-1 matches fp32's needs photos whose top class means something. These
are the real photos that ship in packages this machine can install, each group in its own folder:

- ``imagenet-val``: 20 photos of ImageNet's validation set with their labels (the class index is
  the file name's last number), from the foolbox 3.3.4 wheel on PyPI (MIT; ImageNet's terms apply
  to the photos: research use).
- ``opencv``: OpenCV's sample pictures (fruit, a baboon, a butterfly, a squirrel, buildings,
  cars, a football player, but also chessboards, logos and stereo pairs), from Debian's
  ``opencv-doc`` package (BSD/Apache; downloaded with ``apt-get download``, not installed).
- ``cifar``: 40 CIFAR-10/100 photos (32 px, so blurry at 224), from the same foolbox wheel.
- ``other``: scikit-learn's two sample photos, matplotlib's Grace Hopper, imgaug's quokka.

Nothing is committed: the photos are fetched here and kept under ``bench/data`` (git-ignored).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

GROUPS = ("imagenet-val", "opencv", "cifar", "other")


def fetch(folder: Path) -> None:
    """Download the wheels and the Debian package, and copy their photos into ``folder``/<group>/."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, "foolbox==3.3.4", "imgaug==0.4.0"],
            check=True,
        )
        for wheel in Path(tmp).glob("*.whl"):
            with zipfile.ZipFile(wheel) as z:
                for name in z.namelist():
                    base = name.rsplit("/", 1)[-1]
                    group = (
                        "imagenet-val"
                        if base.startswith("imagenet_")
                        else "cifar"
                        if base.startswith("cifar")
                        else "other"
                        if base == "quokka.jpg"
                        else None
                    )
                    if group and name.endswith((".jpg", ".png")):
                        (folder / group).mkdir(parents=True, exist_ok=True)
                        (folder / group / base).write_bytes(z.read(name))
        if shutil.which("apt-get") and shutil.which("dpkg"):
            subprocess.run(["apt-get", "download", "-q", "opencv-doc"], cwd=tmp, check=True)
            deb = next(Path(tmp).glob("opencv-doc_*.deb"))
            subprocess.run(["dpkg", "-x", str(deb), str(Path(tmp) / "x")], check=True)
            (folder / "opencv").mkdir(parents=True, exist_ok=True)
            for f in (Path(tmp) / "x" / "usr/share/doc/opencv-doc/examples/data").glob("*"):
                if f.suffix in (".jpg", ".png"):
                    shutil.copy(f, folder / "opencv" / f.name)
        else:
            print("no apt-get here: the opencv group is left out")
    import matplotlib
    import sklearn

    (folder / "other").mkdir(parents=True, exist_ok=True)
    for f in (
        Path(sklearn.__file__).parent / "datasets/images/china.jpg",
        Path(sklearn.__file__).parent / "datasets/images/flower.jpg",
        Path(matplotlib.get_data_path()) / "sample_data/grace_hopper.jpg",
    ):
        shutil.copy(f, folder / "other" / f.name)


def groups(folder: str) -> dict[str, list[Path]]:
    """The fetched photos by group, sorted; exits with the command to fetch them when there are none."""
    out = {g: sorted(p for p in (Path(folder) / g).glob("*") if p.suffix in (".jpg", ".png")) for g in GROUPS}
    if not any(out.values()):
        raise SystemExit(f"no photos in {folder}: fetch them with python bench/real_photos.py {folder}")
    return {g: files for g, files in out.items() if files}


def imagenet_label(path: Path) -> int | None:
    """The ImageNet class index of an ``imagenet-val`` photo (``imagenet_07_609.jpg`` is class 609)."""
    return int(path.stem.rsplit("_", 1)[1]) if path.stem.startswith("imagenet_") else None


def views(rgb: np.ndarray) -> list[np.ndarray]:
    """Ten 224-px views of a photo, as a researcher's framing might vary: ``classify``'s centre crop, the whole
    square, a tight centre, the four corners at 80%, and the first three mirrored."""
    from imagevars.models.efficientnet import center_crop

    h, w = rgb.shape[:2]
    out = [center_crop(rgb), center_crop(rgb, crop=1.0), center_crop(rgb, crop=0.7)]
    s = int(min(h, w) * 0.8)
    for y, x in ((0, 0), (0, w - s), (h - s, 0), (h - s, w - s)):
        out.append(center_crop(rgb[y : y + s, x : x + s], crop=1.0))
    return [np.ascontiguousarray(v) for v in out + [v[:, ::-1] for v in out[:3]]]


def resaved_jpeg(x: np.ndarray) -> np.ndarray:
    """Model inputs (N, H, W, 3), 0-255, each re-saved as a quality-95 JPEG and decoded: a change no one would see,
    against which a model's own stability is judged (the re-save ``imagevars validate stability`` makes)."""
    from imagevars.validate.stability import resaved

    return np.stack([resaved(a.astype(np.uint8)).astype(np.float32) for a in x])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    args = p.parse_args()
    fetch(Path(args.folder))
    for g, files in groups(args.folder).items():
        print(f"{g}: {len(files)} photos")


if __name__ == "__main__":
    main()
