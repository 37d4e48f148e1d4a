"""Testing with concept activation vectors (TCAV; Kim et al. 2018, ICML, "Interpretability beyond feature
attribution: quantitative testing with concept activation vectors").

A concept activation vector (CAV) is the normal of a linear boundary (here a ridge classifier's), in one layer's activation
space, between a concept's examples and random counterexamples: the direction in which the layer
"sees more of" the concept. A class image's sensitivity to the concept is the directional
derivative of the class logit along the CAV; the TCAV score is the share of class images whose
sensitivity is positive. Because a CAV against one random set can be luck, the CAV is learned
against ``runs`` different random sets, and the scores are compared, by a two-sided t-test, with
the scores of CAVs learned between two random sets (what chance gives).

Activations are the layer's output averaged over its spatial positions; a CAV ``v`` then moves
every position by ``v``, and the directional derivative is ``(sum over positions of d logit / d
activation) . v``: what :func:`imagevars.explainers.concepts.layer_gradients` returns, dotted with ``v``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def cav(concept: np.ndarray, random: np.ndarray, seed: int = 0) -> np.ndarray:
    """The unit CAV pointing from ``random`` toward ``concept`` activations: the normal of a ridge-penalised linear
    classifier between them (closed form, fast with thousands of dimensions and tens of examples).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> v = cav(rng.normal(size=(30, 4)) + [3, 0, 0, 0], rng.normal(size=(30, 4)))
        >>> int(np.argmax(np.abs(v))), bool(v[0] > 0)
        (0, True)
    """
    from sklearn.linear_model import Ridge

    x = np.concatenate([concept, random]).astype(np.float64)
    y = np.r_[np.ones(len(concept)), -np.ones(len(random))]
    scale = float(x.std()) + 1e-12  # one number for the whole layer: the CAV stays in the layer's own axes
    v = np.ravel(Ridge(alpha=1.0).fit((x - x.mean(0)) / scale, y).coef_)
    return v / max(np.linalg.norm(v), 1e-12)


def tcav_score(gradients: np.ndarray, v: np.ndarray) -> float:
    """Share of class images whose logit grows along ``v`` (positive directional derivative).

    Example:
        >>> tcav_score(np.array([[1.0, 0.0], [-1.0, 0.0], [2.0, 1.0]]), np.array([1.0, 0.0]))
        0.6666666666666666
    """
    return float(np.mean(gradients @ v > 0))


@dataclass
class ConceptTest:
    """The TCAV test of one concept: its scores over random sets, chance's scores, and the two-sided p-value."""

    scores: np.ndarray
    random_scores: np.ndarray
    p_value: float

    @property
    def score(self) -> float:
        return float(np.mean(self.scores))


def random_scores(pool: np.ndarray, gradients: np.ndarray, size: int, runs: int, seed: int) -> np.ndarray:
    """TCAV scores of CAVs learned between two disjoint random draws of ``size`` from ``pool`` (chance)."""
    rng = np.random.default_rng(seed + 7919)
    out = []
    for r in range(runs):
        pick = rng.permutation(len(pool))[: 2 * size]
        out.append(tcav_score(gradients, cav(pool[pick[:size]], pool[pick[size:]], seed + r)))
    return np.array(out)


def concept_test(
    concept: np.ndarray, pool: np.ndarray, gradients: np.ndarray, chance: np.ndarray, runs: int, seed: int
) -> ConceptTest:
    """TCAV scores of ``concept`` against ``runs`` random draws from ``pool``, and the t-test against ``chance``."""
    from scipy.stats import ttest_ind

    rng = np.random.default_rng(seed)
    size = min(len(concept), len(pool))
    scores = np.array(
        [tcav_score(gradients, cav(concept, pool[rng.permutation(len(pool))[:size]], seed + r)) for r in range(runs)]
    )
    if np.ptp(scores) == 0 and np.ptp(chance) == 0:
        p = 1.0 if scores[0] == chance[0] else 0.0
    else:
        p = float(ttest_ind(scores, chance, equal_var=False).pvalue)
    return ConceptTest(scores, chance, p)
