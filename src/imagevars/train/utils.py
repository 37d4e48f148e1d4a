"""Keras's utilities the lecture calls: ``imagevars.utils.to_categorical``."""

from __future__ import annotations

import numpy as np


def to_categorical(y, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """Class indices as one-hot rows, as ``keras.utils.to_categorical`` gives them.

    Example:
        >>> to_categorical([0, 2, 1], 3).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.mod(y, 1) == 0):
            raise ValueError("to_categorical takes class indices (0, 1, 2 ...), got non-integer values")
        y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical takes class indices from 0, got {int(y.min())}")
    n = int(num_classes) if num_classes is not None else int(y.max()) + 1 if y.size else 0
    if y.size and y.max() >= n:
        raise ValueError(f"class index {int(y.max())} does not fit num_classes={n}")
    out = np.zeros((*y.shape, n), dtype=dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return out
