"""Learnable photo-like classes for training tests: noise textures with two blue circles; class "red" also
has one small red square somewhere (the only difference between the classes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def write_textures(root: Path, per_class: int = 120, side: int = 64, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for name in ("plain", "red"):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = Image.fromarray(rng.integers(60, 200, (side, side, 3), dtype=np.uint8))
            draw = ImageDraw.Draw(img)
            for _ in range(2):
                x, y, r = *rng.integers(10, side - 10, 2), int(rng.integers(4, 8))
                draw.ellipse((x - r, y - r, x + r, y + r), fill=(30, 60, 220))
            if name == "red":
                x, y = rng.integers(12, side - 18, 2)
                draw.rectangle((x, y, x + 6, y + 6), fill=(230, 20, 20))
            img.save(root / name / f"{i:03d}.png")
    return root
