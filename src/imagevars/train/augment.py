"""Augmentation for photos, applied to each training batch: flips, crops, colour jitter.

The network sees each training image a little differently every epoch (mirrored, a random crop
of 70-100% of its area stretched back to full size, brightness and contrast within ±20%), so a
few hundred labelled photos go further. Validation and test images are never augmented. Digits
and other images whose meaning changes under a mirror get none (the MNIST recipes use none).

Example:
    >>> import torch
    >>> x = torch.rand(4, 3, 32, 32)
    >>> photo_augment(x, torch.Generator().manual_seed(0)).shape
    torch.Size([4, 3, 32, 32])
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def photo_augment(
    x: torch.Tensor, generator: torch.Generator | None = None, *, min_area: float = 0.7, jitter: float = 0.2
) -> torch.Tensor:
    """A randomly flipped, cropped and colour-jittered copy of a normalised (N, C, H, W) batch."""
    n, _, h, w = x.shape
    g = generator

    def uniform(low: float, high: float, size: int = n) -> torch.Tensor:
        return low + (high - low) * torch.rand(size, generator=g)

    flip = torch.rand(n, generator=g) < 0.5
    x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
    side = uniform(min_area, 1.0).sqrt()  # the crop's side as a share of the image's: same aspect
    cx, cy = uniform(-1, 1) * (1 - side), uniform(-1, 1) * (1 - side)  # its centre, inside the image
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, 0, 2], theta[:, 1, 2] = side, side, cx, cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    contrast = uniform(1 - jitter, 1 + jitter).view(-1, 1, 1, 1)
    brightness = uniform(-jitter, jitter).view(-1, 1, 1, 1) * x.std(dim=(1, 2, 3), keepdim=True)
    return ((x - mean) * contrast + mean + brightness).contiguous(memory_format=_format(x))


def _format(x: torch.Tensor) -> torch.memory_format:
    return torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
