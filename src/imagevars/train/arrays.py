"""Turning the arrays users pass (Keras-style, NumPy) into the tensors a network takes."""

from __future__ import annotations

import numpy as np
import torch

from ..models.card import ModelCard


def _writable(a) -> np.ndarray:
    a = np.asarray(a)
    return a if a.flags.writeable else a.copy()


def to_inputs(x: np.ndarray | torch.Tensor, card: ModelCard, name: str = "x") -> torch.Tensor:
    """Images as a float32 (N, C, H, W) tensor, scaled and normalised as the card says.

    Accepts (N, H, W) greyscale, (N, H, W, C) as Keras uses, or (N, C, H, W) as PyTorch uses.
    Integer arrays (uint8 pixels) are multiplied by ``card.scale`` (1/255); float arrays are
    taken as already scaled, as in the lecture's ``train_X / 255``.

    Example:
        >>> import numpy as np
        >>> from imagevars import get_card
        >>> to_inputs(np.zeros((2, 28, 28), np.uint8), get_card("mnist-cnn")).shape
        torch.Size([2, 1, 28, 28])
    """
    h, w, c = card.input_size
    t = x if isinstance(x, torch.Tensor) else torch.from_numpy(_writable(x))
    given = tuple(t.shape)
    if t.ndim == 3 and c == 1:
        t = t.unsqueeze(1)
    elif t.ndim == 4 and t.shape[1:] == (h, w, c) and t.shape[1:] != (c, h, w):
        t = t.permute(0, 3, 1, 2)
    if t.ndim != 4 or tuple(t.shape[1:]) != (c, h, w):
        raise ValueError(
            f"{name} has shape {given}; this model takes images of {h}x{w} with {c} channel(s): "
            f"(N, {h}, {w}, {c}), (N, {c}, {h}, {w})"
            + (f" or (N, {h}, {w})" if c == 1 else "")
            + ". Resize the images first, or train a model for this size (input_size=...)."
        )
    if not (t.is_floating_point() or t.dtype in (torch.uint8, torch.int16, torch.int32, torch.int64)):
        raise ValueError(f"{name} has dtype {t.dtype}; pass pixel values as uint8 or float")
    scale = card.scale if not t.is_floating_point() else 1.0
    t = t.to(torch.float32) * scale
    mean = torch.tensor(card.mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(card.std, dtype=torch.float32).view(1, -1, 1, 1)
    if bool((mean != 0).any() or (std != 1).any()):
        t = (t - mean) / std
    return t.contiguous()


def to_labels(y: np.ndarray | torch.Tensor, num_classes: int, name: str = "y") -> torch.Tensor:
    """Class labels as int64 (N,), or soft targets as float32 (N, K).

    Accepts integer labels, one-hot rows (Keras's ``to_categorical``), or probability rows.

    Example:
        >>> import numpy as np
        >>> to_labels(np.eye(10)[[3, 1]], 10).tolist()
        [3, 1]
    """
    t = y if isinstance(y, torch.Tensor) else torch.from_numpy(np.array(y))
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim == 1:
        if t.is_floating_point():
            if not torch.equal(t, t.round()):
                raise ValueError(f"{name} holds non-integer class labels")
        t = t.to(torch.int64)
        if len(t) and (int(t.min()) < 0 or int(t.max()) >= num_classes):
            raise ValueError(f"{name} has labels outside 0..{num_classes - 1} (found {int(t.min())}..{int(t.max())})")
        return t
    if t.ndim == 2 and t.shape[1] == num_classes:
        t = t.to(torch.float32)
        if torch.all((t == 0) | (t == 1)) and torch.all(t.sum(1) == 1):
            return t.argmax(1)
        return t
    raise ValueError(f"{name} has shape {tuple(t.shape)}; pass class indices (N,) or one-hot rows (N, {num_classes})")
