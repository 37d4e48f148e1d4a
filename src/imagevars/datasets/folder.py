"""A labelled folder of images: one subfolder per class, any sizes and colour modes.

Layouts::

    PHOTOS/cats/*.jpg  PHOTOS/dogs/*.png ...          -> split into train and test here
    PHOTOS/train/cats/...  PHOTOS/test/cats/...        -> the given split is used

Files that cannot be read are skipped and listed (``FolderData.skipped``), never fatal.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._env import threads
from ..io.decode import IMAGE_EXTENSIONS, DecodeError, is_greyscale, load_array, probe


@dataclass
class FolderData:
    """Images of one split, as arrays, with the files they came from."""

    x: np.ndarray  # (N, H, W, C) uint8
    y: np.ndarray  # (N,) int64 index into classes
    classes: tuple[str, ...]
    files: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def list_classes(root: str | os.PathLike) -> dict[str, list[Path]]:
    """Class name -> sorted image files, for the class subfolders of ``root`` that hold images."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder; pass a folder with one subfolder of images per class")
    classes = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in sub.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        if files:
            classes[sub.name] = files
    return classes


def choose_shape(files: list[Path], max_size: int = 64, sample: int = 200) -> tuple[int, int]:
    """(size, channels) for a network: median shorter side capped at ``max_size``; 1 channel if all grey."""
    picked = files[:: max(1, len(files) // sample)][:sample]
    sides, grey = [], True
    for f in picked:
        try:
            w, h, mode = probe(f)
        except DecodeError:
            continue
        sides.append(min(w, h))
        grey = grey and is_greyscale(mode)
    if not sides:
        raise ValueError("none of the sampled images could be read")
    return int(min(max_size, max(10, np.median(sides)))), 1 if grey else 3


def load_folder(
    root: str | os.PathLike,
    size: int | None = None,
    channels: int | None = None,
    classes: tuple[str, ...] | None = None,
    progress: bool = True,
) -> FolderData:
    """Read every image under ``root``'s class subfolders into memory, resized to size x size.

    Args:
        root: folder with one subfolder per class.
        size: side of the square arrays; default chosen by :func:`choose_shape`.
        channels: 1 or 3; default 1 when every sampled image is greyscale.
        classes: class names in label order (to align a test split with its train split).
        progress: show a progress bar.

    Example:
        >>> data = load_folder("PHOTOS/")  # doctest: +SKIP
        >>> data.x.shape, data.classes  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    found = list_classes(root)
    if classes is None:
        if len(found) < 2:
            raise ValueError(
                f"{root} has {len(found)} class subfolder(s) with images ({', '.join(found) or 'none'}); "
                "a classifier needs at least two: put each class's images in its own subfolder"
            )
        classes = tuple(found)
    unknown = sorted(set(found) - set(classes))
    if unknown:
        raise ValueError(f"{root} has classes not seen in training: {', '.join(unknown)}")
    items = [(f, i) for i, c in enumerate(classes) for f in found.get(c, [])]
    if not items:
        raise ValueError(f"{root} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))})")
    if size is None or channels is None:
        auto_size, auto_channels = choose_shape([f for f, _ in items])
        size, channels = size or auto_size, channels or auto_channels

    def read(item):
        try:
            return load_array(item[0], size, channels), None
        except DecodeError as exc:
            return None, str(exc)

    x, y, files, skipped = [], [], [], []
    with ThreadPoolExecutor(threads()) as pool:
        for (f, label), (arr, err) in tqdm(
            zip(items, pool.map(read, items)),
            total=len(items),
            desc=f"Reading {Path(root).name}",
            unit="img",
            disable=not progress,
        ):
            if err is not None:
                skipped.append((str(f), err))
                continue
            x.append(arr)
            y.append(label)
            files.append(str(f))
    if not x:
        raise ValueError(f"no readable images in {root}; {len(skipped)} file(s) failed, first: {skipped[0][1]}")
    return FolderData(np.stack(x), np.asarray(y, np.int64), tuple(classes), files, skipped)


def split(data: FolderData, test_fraction: float, seed: int) -> tuple[FolderData, FolderData]:
    """A stratified random split into (train, test); every class keeps at least one training image."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    rng = np.random.default_rng(seed)
    test_idx = []
    for c in range(len(data.classes)):
        members = np.flatnonzero(data.y == c)
        n_test = min(len(members) - 1, int(round(len(members) * test_fraction)))
        test_idx.extend(rng.permutation(members)[:n_test])
    is_test = np.zeros(len(data.y), bool)
    is_test[test_idx] = True

    def subset(mask: np.ndarray, skipped) -> FolderData:
        return FolderData(data.x[mask], data.y[mask], data.classes, [f for f, m in zip(data.files, mask) if m], skipped)

    return subset(~is_test, data.skipped), subset(is_test, [])
