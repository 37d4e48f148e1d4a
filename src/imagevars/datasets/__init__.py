"""Datasets for training and evaluating models: MNIST, Fashion-MNIST, and folders of images.

Example:
    >>> import imagevars
    >>> (train_X, train_Y), (test_X, test_Y) = imagevars.datasets.mnist.load_data()  # doctest: +SKIP
"""

from . import fashion_mnist, folder, idx, mnist

__all__ = ["fashion_mnist", "folder", "idx", "mnist"]
