"""The lecture's ACE figure: each important concept's nearest segments, each above the image it came from."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def concept_figure(result, path: str | os.PathLike, top: int = 5, per_concept: int = 6) -> Path:
    """Rows of concepts (significant first, by TCAV score): segments on top, their source images with the segment
    outlined below; each row titled with the concept's TCAV score and p-value."""
    from skimage.segmentation import find_boundaries

    from .._extras import pyplot
    from ..io.files import save_figure

    plt = pyplot()
    rows = min(top, len(result.concepts))
    fig, axes = plt.subplots(
        max(1, 2 * rows), per_concept, figsize=(1.6 * per_concept, 3.3 * max(1, rows)), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    if not rows:
        axes[0, 0].text(0, 0.5, "no concept passed the popularity rule", fontsize=10)
    for r in range(rows):
        info = result.table.iloc[r]
        for c, seg in enumerate(result.concepts[r][:per_concept]):
            axes[2 * r, c].imshow(seg.patch)
            image = result.images[seg.image].copy()
            y0, y1, x0, x1 = seg.box
            full = np.zeros(image.shape[:2], bool)
            full[y0:y1, x0:x1] = seg.mask
            image[find_boundaries(full, mode="thick")] = (255, 255, 0)
            axes[2 * r + 1, c].imshow(image)
        star = " (significant)" if info["significant"] else ""
        axes[2 * r, 0].set_title(
            f"concept {int(info['concept'])}: TCAV {info['tcav']:.2f}, p = {info['p_value']:.2g}"
            f"{star}, {int(info['n_images'])} images",
            loc="left",
            fontsize=9,
        )
    fig.suptitle(
        f"Concepts of '{result.provenance['target']}' at {result.provenance['layer']} ({result.provenance['model']})",
        fontsize=10,
    )
    fig.tight_layout()
    return save_figure(fig, path)
