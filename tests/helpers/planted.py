"""Images with a planted concept: the class is "a small red square somewhere", a blue circle is in both classes."""

from __future__ import annotations

import numpy as np

SIDE = 48
SQUARE = 9


def texture(rng) -> np.ndarray:
    """A smooth random grey-green texture, different in every image."""
    import cv2

    noise = cv2.GaussianBlur(rng.random((SIDE, SIDE)).astype(np.float32), (0, 0), 2.0)
    noise = (noise - noise.min()) / (np.ptp(noise) + 1e-6)
    base = rng.uniform(70, 150, 3) * np.array([0.8, 1.0, 0.8])
    return np.clip(base + (noise[..., None] - 0.5) * 90, 0, 255).astype(np.uint8)


def image(rng, red: bool, blue: bool) -> tuple[np.ndarray, tuple[int, int] | None]:
    """One image and the red square's top-left corner (or None)."""
    import cv2

    img = texture(rng)
    corner = None
    if red:
        y, x = rng.integers(2, SIDE - SQUARE - 2, 2)
        img[y : y + SQUARE, x : x + SQUARE] = (220, 30, 30)
        corner = (int(y), int(x))
    if blue:
        for _ in range(20):
            cy, cx = rng.integers(8, SIDE - 8, 2)
            if corner is None or abs(cy - corner[0] - SQUARE / 2) > 12 or abs(cx - corner[1] - SQUARE / 2) > 12:
                break
        cv2.circle(img, (int(cx), int(cy)), 6, (30, 40, 220), -1)
    return img, corner


def dataset(n: int, seed: int = 0):
    """(images (n, 48, 48, 3) uint8, labels 0/1 (1: red square), corners): half of each class holds a blue circle."""
    rng = np.random.default_rng(seed)
    images, labels, corners = [], [], []
    for i in range(n):
        red = i % 2 == 1
        img, corner = image(rng, red, bool(rng.random() < 0.5))
        images.append(img), labels.append(int(red)), corners.append(corner)
    return np.stack(images), np.array(labels), corners
