"""MNIST: 60,000 training and 10,000 test images of handwritten digits, 28x28 greyscale.

LeCun, Bottou, Bengio & Haffner (1998), "Gradient-based learning applied to document
recognition"; yann.lecun.com/exdb/mnist. The files are looked for in, in order: the folder
passed as ``path``, ``$IMAGEVARS_DATA`` (or its ``mnist/`` subfolder), and the cache
``$IMAGEVARS_HOME/datasets/mnist``; otherwise they are downloaded from public mirrors into the
cache, with a progress bar, and checked against the original files' sha256.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._env import data_dir, home, offline
from .idx import load_dataset

MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

# (sha256 of the .gz as served, sha256 of the decompressed IDX file). Copies of MNIST are often
# recompressed, so only the content is checked: it is what the numbers depend on.
SHA256 = {
    "train_images": (None, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train_labels": (None, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "test_images": (None, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "test_labels": (None, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}

LABELS = tuple(str(d) for d in range(10))


def default_folders(name: str = "mnist") -> list[Path]:
    """Folders searched before the cache: ``$IMAGEVARS_DATA/<name>`` and ``$IMAGEVARS_DATA``."""
    base = data_dir()
    return [base / name, base] if base else []


def load_data(
    path: str | os.PathLike | None = None,
    *,
    download: bool | None = None,
    verify: bool = True,
    mirrors: list[str] | None = None,
    progress: bool = True,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST as Keras's ``mnist.load_data()`` returns it.

    Args:
        path: a folder holding the four IDX files (``train-images-idx3-ubyte[.gz]`` ...).
        download: fetch missing files into the cache; default: yes unless offline.
        verify: check each file's content against the original's sha256.
        mirrors: base addresses to download from, tried in order.
        progress: show a progress bar while downloading.

    Returns:
        ``(train_X, train_Y), (test_X, test_Y)``: uint8 arrays of shape (60000, 28, 28),
        (60000,), (10000, 28, 28), (10000,).

    Example:
        >>> import imagevars
        >>> (train_X, train_Y), (test_X, test_Y) = imagevars.datasets.mnist.load_data()  # doctest: +SKIP
        >>> train_X.shape, test_Y[:5]  # doctest: +SKIP
        ((60000, 28, 28), array([7, 2, 1, 0, 4], dtype=uint8))
    """
    folders = [Path(path)] if path is not None else default_folders("mnist")
    if path is not None and not Path(path).is_dir():
        raise FileNotFoundError(f"MNIST folder {path} does not exist")
    return load_dataset(
        "MNIST",
        folders,
        home() / "datasets" / "mnist",
        mirrors or MIRRORS,
        SHA256,
        download=(not offline()) if download is None else download,
        verify=verify,
        progress=progress,
    )
