"""Fashion-MNIST: 70,000 28x28 greyscale photos of clothing in 10 classes (Zalando, MIT license).

Xiao, Rasul & Vollgraf (2017), "Fashion-MNIST: a novel image dataset for benchmarking machine
learning algorithms", arXiv:1708.07747. Same layout and search order as :mod:`.mnist`; Debian's
``dataset-fashion-mnist`` package puts the files in ``/usr/share/datasets/fashion-mnist``,
which is searched too.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._env import home, offline
from .idx import load_dataset
from .mnist import default_folders

MIRRORS = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
DEBIAN = Path("/usr/share/datasets/fashion-mnist")

# (sha256 of the .gz as served: None, since re-distributions recompress; sha256 of the content)
SHA256 = {
    "train_images": (None, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train_labels": (None, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "test_images": (None, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "test_labels": (None, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}

LABELS = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def load_data(
    path: str | os.PathLike | None = None,
    *,
    download: bool | None = None,
    verify: bool = True,
    mirrors: list[str] | None = None,
    progress: bool = True,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fashion-MNIST as Keras's ``fashion_mnist.load_data()`` returns it (see :func:`.mnist.load_data`).

    Example:
        >>> from imagevars.datasets import fashion_mnist
        >>> (x, y), _ = fashion_mnist.load_data()  # doctest: +SKIP
    """
    folders = [Path(path)] if path is not None else [*default_folders("fashion-mnist"), DEBIAN]
    return load_dataset(
        "Fashion-MNIST",
        folders,
        home() / "datasets" / "fashion-mnist",
        mirrors or MIRRORS,
        SHA256,
        download=(not offline()) if download is None else download,
        verify=verify,
        progress=progress,
    )
