"""How a user's own folder is trained: a schedule in optimizer steps, a stratified validation share,
augmentation for photos, early stopping, and a warning when the result says nothing.

The lecture's recipe counts epochs of 60,000 digits at batch 128 (4,220 steps). A folder of 200
photos at batch 128 is 2 steps an epoch: ten epochs are 20 steps, and the network stays at chance
without a word. A folder's run is therefore sized in steps: batches of 16-128 images (about an
eighth of the training images), at least :data:`MIN_STEPS` optimizer steps, early stopping on the
validation loss (the best epoch's weights kept), and the validation images drawn at random from
every class (Keras's ``validation_split`` takes the last 10% of the arrays, which for a folder
read class by class is all one class). Arrays a user passes to ``fit`` keep Keras's semantics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_STEPS = 300  # optimizer steps at least, whatever the folder's size
PATIENCE = 8  # epochs without a better validation loss before stopping
VALIDATION = 0.1


@dataclass(frozen=True)
class FolderPlan:
    batch_size: int
    epochs: int
    steps_per_epoch: int
    patience: int
    augment: bool

    def to_dict(self) -> dict:
        return {
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "steps_per_epoch": self.steps_per_epoch,
            "min_steps": MIN_STEPS,
            "patience": self.patience,
            "augment": "photo" if self.augment else "none",
            "validation": f"stratified random {VALIDATION:.0%}",
        }


def plan(n_train: int, batch_size: int, epochs: int | None, augment: bool = True) -> FolderPlan:
    """Batch size and epochs for ``n_train`` training images: ``epochs`` if given, else enough for MIN_STEPS.

    Example:
        >>> p = plan(192, 128, None)
        >>> p.batch_size, p.steps_per_epoch, p.epochs
        (16, 12, 25)
    """
    batch = int(min(batch_size, max(16, 2 ** int(math.log2(max(1, n_train // 8))))))
    steps = -(-n_train // batch)
    return FolderPlan(batch, epochs or max(10, -(-MIN_STEPS // steps)), steps, PATIENCE, augment)


def stratified_validation(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, validation rows): ``fraction`` of each class at random, at least one of each class
    that has two images or more.

    Example:
        >>> train, val = stratified_validation(np.repeat([0, 1], 50), 0.1, seed=0)
        >>> np.bincount(np.repeat([0, 1], 50)[val]).tolist()
        [5, 5]
    """
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        if len(members) >= 2:
            val.extend(members[: max(1, int(round(len(members) * fraction)))])
    is_val = np.zeros(len(y), bool)
    is_val[val] = True
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def per_class(probs: np.ndarray, y: np.ndarray, labels) -> dict[str, dict[str, float]]:
    """Precision, recall and support of each class on the test images."""
    pred = probs.argmax(1)
    out = {}
    for c, name in enumerate(labels):
        tp = int(np.sum((pred == c) & (y == c)))
        out[str(name)] = {
            "precision": tp / max(1, int(np.sum(pred == c))),
            "recall": tp / max(1, int(np.sum(y == c))),
            "support": int(np.sum(y == c)),
        }
    return out


def warnings_for(test_accuracy: float, y_test: np.ndarray, y_val: np.ndarray, data: str) -> list[str]:
    """What to tell the user when the result says nothing: near chance, or too few validation images."""
    from scipy.stats import binomtest

    said = []
    majority = np.bincount(y_test).max() / len(y_test)
    correct = int(round(test_accuracy * len(y_test)))
    if binomtest(correct, len(y_test), majority, alternative="greater").pvalue >= 0.05:
        said.append(
            f"test accuracy {test_accuracy:.1%} is not clearly above chance (the largest class is "
            f"{majority:.1%} of the {len(y_test)} test images): train longer (--epochs), add images, or "
            f"learn on pretrained features, the better tool for a few hundred images: imagevars learn {data}"
        )
    smallest = np.bincount(y_val).min() if len(y_val) else 0
    if smallest < 5:
        said.append(
            f"the validation set has {len(y_val)} images ({smallest} in its smallest class): too few for "
            "early stopping to tell good epochs from bad; add images"
        )
    return said
