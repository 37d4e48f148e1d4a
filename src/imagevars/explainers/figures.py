"""Pictures of explanations: the lecture's SHAP figure and Grad-CAM overlays, written as PNG."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._extras import pyplot
from ..io.files import save_figure


def image_plot(e, path: str | os.PathLike, title: str | None = None) -> Path:
    """Each image (a row), then its attribution map for every explained class, drawn by ``shap.image_plot``.

    Red pixels raise the class's output, blue ones lower it. Row labels give the true class
    where known; column titles the class and, for each image, its probability.

    Example:
        >>> e.plot("shap_mnist/correct.png")  # doctest: +SKIP
    """
    from .._extras import require

    shap = require("shap", "SHAP figures")
    plt = pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grey = e.pixels.mean(-1, keepdims=True) if e.pixels.shape[-1] == 1 else e.pixels
    maps = [e.values[..., t] for t in range(e.values.shape[-1])]  # one (N, H, W, C) per class slot
    if e.values.shape[3] != grey.shape[3]:  # Grad-CAM maps have one channel
        maps = [m.mean(-1, keepdims=True) for m in maps]
    names = np.array([[f"{e.labels[c]}: {e.probabilities[i, c]:.2f}" for c in e.targets[i]] for i in range(len(e))])
    true = None
    if e.y_true is not None:
        top = e.probabilities.argmax(1)
        true = [f"true {e.labels[y]}" + ("" if y == p else f" (pred {e.labels[p]})") for y, p in zip(e.y_true, top)]
    # shap draws the image in grey under the map; the lecture passes -x so digits show dark on light
    shap.image_plot(maps, -grey if grey.shape[-1] == 1 else grey, labels=names, true_labels=true, show=False)
    fig = plt.gcf()
    if title:
        fig.suptitle(title, y=1.0)
    return save_figure(fig, path, dpi=110, bbox_inches="tight")


def overlays(e, directory: str | os.PathLike, names: Sequence[str] | None = None, alpha: float = 0.5) -> list[Path]:
    """One PNG per image: the image beside its top class's map, and the map laid over the image.

    Grad-CAM maps are drawn in the jet colour map scaled to each map's maximum; SHAP maps in
    red (positive) and blue (negative) on a symmetric scale.
    """
    plt = pyplot()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    maps = e.for_class(None)
    top = e.probabilities.argmax(1)
    names = list(names) if names is not None else [f"{i:05d}" for i in range(len(e))]
    written = []
    for i in range(len(e)):
        img = e.pixels[i] if e.pixels.shape[-1] == 3 else e.pixels[i, :, :, 0]
        fig, axes = plt.subplots(1, 2, figsize=(6, 3.2))
        for ax in axes:
            ax.imshow(img, cmap=None if img.ndim == 3 else "gray", vmin=0, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
        m = maps[i]
        if e.method == "gradcam":
            axes[1].imshow(m, cmap="jet", alpha=alpha, vmin=0, vmax=max(float(m.max()), 1e-12))
        else:
            v = max(float(np.abs(m).max()), 1e-12)
            axes[1].imshow(m, cmap="bwr", alpha=alpha + 0.2, vmin=-v, vmax=v)
        truth = f"true {e.labels[e.y_true[i]]}, " if e.y_true is not None else ""
        axes[0].set_title(f"{truth}pred {e.labels[top[i]]} ({e.probabilities[i, top[i]]:.2f})", fontsize=9)
        axes[1].set_title(f"{e.method} for {e.labels[top[i]]}", fontsize=9)
        out = directory / f"{names[i]}.png"
        written.append(save_figure(fig, out, dpi=100, bbox_inches="tight"))
    return written
