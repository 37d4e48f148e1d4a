"""Sanity checks for explanations: do they depend on what the model learned?

Reference:
    Adebayo, Gilmer, Muelly, Goodfellow, Hardt & Kim (2018), "Sanity checks for saliency
    maps", NeurIPS. The model-parameter randomisation test: re-initialise the weights and
    explain the same images again. A method whose maps barely change is showing the input
    (edges, strokes), not the model. Similarity is the Spearman rank correlation of the maps.
"""

from __future__ import annotations

import copy

import numpy as np


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two arrays (ties get their average rank).

    Example:
        >>> rank_correlation(np.array([1.0, 2, 3, 4]), np.array([10.0, 20, 30, 0]))
        -0.2
    """
    ra, rb = _ranks(np.ravel(a)), _ranks(np.ravel(b))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denom) if denom > 0 else float("nan")


def _ranks(x: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse]  # 1-based average ranks


def randomized_copy(model, seed: int = 0):
    """A copy of an imagevars classifier with every layer re-initialised (its weights are random again).

    Example:
        >>> import imagevars
        >>> m = imagevars.create_model("mnist-cnn", pretrained=True)
        >>> r = randomized_copy(m)
        >>> bool((r.module.dense.weight != m.module.dense.weight).any())
        True
    """
    import torch

    from ..train.loading import open_classifier

    clf = copy.deepcopy(open_classifier(model))
    torch.manual_seed(seed)
    done = 0
    for m in clf.module.modules():
        if m is not clf.module and hasattr(m, "reset_parameters"):
            m.reset_parameters()
            done += 1
    if not done:
        raise ValueError(f"{clf.card.name}: no layer could be re-initialised (no reset_parameters)")
    return clf


def randomization_check(model, images, *, method: str = "deep", seed: int = 0, **explain_kwargs) -> np.ndarray:
    """Per image, the rank correlation between the maps of the trained and of a randomised model.

    Both maps are for the class the trained model predicts. Low values (Adebayo et al. report
    near 0 for methods that pass) say the explanation depends on the learned weights.

    Example:
        >>> r = randomization_check("mnist-cnn", test_X[:20], background=train_X[:100])  # doctest: +SKIP
        >>> float(np.median(r)) < 0.5  # doctest: +SKIP
        True
    """
    from ..train.loading import open_classifier
    from .attribution import explain

    trained = open_classifier(model)
    e1 = explain(trained, images, method=method, seed=seed, targets="all", **explain_kwargs)
    e2 = explain(randomized_copy(trained, seed), images, method=method, seed=seed, targets="all", **explain_kwargs)
    top = e1.probabilities.argmax(1)
    return np.array([rank_correlation(e1.values[i, ..., top[i]], e2.values[i, ..., top[i]]) for i in range(len(e1))])
