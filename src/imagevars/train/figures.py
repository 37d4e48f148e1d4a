"""Figures after training: what the model gets right and wrong, a confusion matrix, learning curves.

All functions take plain arrays, write a PNG and return its path; matplotlib runs headless.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._extras import pyplot
from ..io.files import save_figure


def pick_examples(y_true: np.ndarray, y_pred: np.ndarray, correct: bool, seed: int = 0) -> list[int | None]:
    """For each class, the index of one test image that is (in)correctly classified, or None.

    Chosen at random with ``seed`` among the candidates, so the gallery is reproducible.

    Example:
        >>> pick_examples(np.array([0, 1, 1]), np.array([0, 0, 1]), correct=False)
        [None, 1]
    """
    rng = np.random.default_rng(seed)
    k = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    out: list[int | None] = []
    for c in range(k):
        hits = np.flatnonzero((y_true == c) & ((y_pred == y_true) if correct else (y_pred != y_true)))
        out.append(int(rng.choice(hits)) if len(hits) else None)
    return out


def gallery(
    images: np.ndarray,
    y_true: np.ndarray,
    probs: np.ndarray,
    labels: Sequence[str],
    correct: bool,
    path: str | os.PathLike,
    seed: int = 0,
) -> Path:
    """One test image per class, each titled with its true and predicted label and confidence.

    ``correct=True`` draws "what it gets right", ``False`` "what it gets wrong"; a class the
    model never gets wrong is shown as an empty panel saying so.
    """
    plt = pyplot()
    y_pred = probs.argmax(1)
    picks = pick_examples(y_true, y_pred, correct, seed)[: len(labels)]
    picks += [None] * (len(labels) - len(picks))
    cols = min(5, len(labels))
    rows = -(-len(labels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 2.8 * rows), squeeze=False)
    for ax, (c, idx) in zip(axes.flat, enumerate(picks)):
        ax.set_xticks([]), ax.set_yticks([])
        if idx is None:
            ax.text(
                0.5,
                0.5,
                f"true {labels[c]}:\nnone {'right' if correct else 'wrong'}",
                ha="center",
                va="center",
                transform=ax.transAxes,
                fontsize=9,
            )
            continue
        img = images[idx]
        img = img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        p = int(y_pred[idx])
        ax.set_title(
            f"true {labels[c]} → pred {labels[p]}\n({probs[idx, p]:.0%})",
            fontsize=9,
            color="black" if correct else "firebrick",
        )
    for ax in list(axes.flat)[len(labels) :]:
        ax.axis("off")
    fig.suptitle("What it gets right" if correct else "What it gets wrong", fontsize=12)
    fig.tight_layout()
    return _save(fig, path)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Counts (k, k): row = true class, column = predicted class.

    Example:
        >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), 2).tolist()
        [[1, 0], [1, 1]]
    """
    return np.bincount(y_true.astype(np.int64) * k + y_pred.astype(np.int64), minlength=k * k).reshape(k, k)


def plot_confusion(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str], path: str | os.PathLike) -> Path:
    """The confusion matrix as a heat map with counts written in each cell."""
    plt = pyplot()
    k = len(labels)
    cm = confusion_matrix(y_true, y_pred, k)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * k, 0.8 + 0.5 * k))
    ax.imshow(np.log1p(cm), cmap="Blues")
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                str(cm[i, j]),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if cm[i, j] > cm.max() / 3 else "black",
            )
    ax.set_xticks(
        range(k),
        labels,
        rotation=45 if max(map(len, labels)) > 2 else 0,
        ha="right" if max(map(len, labels)) > 2 else "center",
    )
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted"), ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix ({int(np.trace(cm))} of {int(cm.sum())} correct)")
    fig.tight_layout()
    return _save(fig, path)


def plot_history(history: dict[str, list[float]], path: str | os.PathLike) -> Path:
    """Learning curves: loss and accuracy per epoch, training and validation."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for key, style in ((metric, "-o"), (f"val_{metric}", "--s")):
            if key in history:
                values = history[key]
                ax.plot(range(1, len(values) + 1), values, style, label=key, markersize=3)
        ax.set_xlabel("epoch"), ax.set_title(metric), ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return _save(fig, path)


def _save(fig, path) -> Path:
    return save_figure(fig, path, dpi=110)
