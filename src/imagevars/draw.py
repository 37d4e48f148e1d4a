"""Drawing detections on images: boxes and labels, saved as a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

_PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
            "#fabed4", "#469990", "#dcbeff", "#9a6324", "#800000", "#aaffc3", "#808000", "#000075")


def draw_objects(rgb: np.ndarray, objects: Sequence[dict[str, Any]], path: str | os.PathLike | None = None):
    """Boxes and "label score" captions on a copy of ``rgb``; saved to ``path`` if given. Returns the PIL image.

    ``objects`` are long-format rows (``label``, ``class_id``, ``score``, ``x1`` .. ``y2`` in
    pixels of ``rgb``), as :func:`imagevars.tasks.detect.objects` gives them.

    Example:
        >>> img = draw_objects(np.zeros((50, 80, 3), np.uint8),
        ...                    [{"label": "cup", "class_id": 41, "score": 0.9, "x1": 5, "y1": 5, "x2": 40, "y2": 30}])
        >>> img.size
        (80, 50)
    """
    from PIL import Image, ImageDraw, ImageFont

    img = Image.fromarray(np.asarray(rgb, np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(img)
    width = max(2, round(max(img.size) / 300))
    font = ImageFont.load_default(size=max(12, round(max(img.size) / 40)))
    for o in objects:
        color = _PALETTE[int(o.get("class_id", 0)) % len(_PALETTE)]
        box = (o["x1"], o["y1"], o["x2"], o["y2"])
        draw.rectangle(box, outline=color, width=width)
        text = f"{o['label']} {o['score']:.2f}" + (f" #{o['track_id']}" if o.get("track_id") is not None else "")
        l, t, r, b = draw.textbbox((box[0], box[1]), text, font=font)
        y = box[1] - (b - t) - 2 * width if box[1] - (b - t) - 2 * width >= 0 else box[1]
        draw.rectangle((box[0], y, box[0] + (r - l) + 2 * width, y + (b - t) + 2 * width), fill=color)
        draw.text((box[0] + width, y + width - (t - box[1])), text, fill="white", font=font)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        img.save(path)
    return img
