"""The corrected estimators proven by simulation with known truth, and checked against ppi-python."""

from __future__ import annotations

import numpy as np

from imagevars.validate.corrected import Design, estimates
from known_truth import BETA, design, world  # tests/helpers


def _coverage(reps: int, **kw):
    rng = np.random.default_rng(0)
    cover, width = {}, {}
    for _ in range(reps):
        for name, r in estimates(design(rng, **kw), term=1).items():
            cover.setdefault(name, []).append(r["low"][1] <= BETA <= r["high"][1])
            width.setdefault(name, []).append(r["high"][1] - r["low"][1])
    return {k: np.mean(v) for k, v in cover.items()}, {k: np.mean(v) for k, v in width.items()}


def test_over_200_simulated_studies_dsl_and_ppi_cover_the_truth_and_the_naive_estimate_does_not():
    cover, width = _coverage(200)
    assert cover["naive"] < 0.5
    assert 0.93 <= cover["DSL"] <= 0.97 and 0.93 <= cover["PPI++"] <= 0.97
    assert width["PPI++"] < width["gold-only"]


def test_with_a_stratified_gold_sample_dsl_still_covers():
    cover, _ = _coverage(200, stratified=True)
    assert cover["naive"] < 0.5 and 0.91 <= cover["DSL"] <= 0.98 and 0.91 <= cover["gold-only"] <= 0.98


def test_a_logit_with_a_mismeasured_outcome_is_corrected():
    rng = np.random.default_rng(1)
    cover = {"naive": [], "DSL": [], "PPI++": []}
    for _ in range(100):
        price, person, _, detected = world(rng, 3000)
        coded = rng.random(3000) < 0.1
        X = np.column_stack([np.ones(3000), price])
        d = Design(detected, X, np.where(coded, person, np.nan), X, coded, np.full(3000, 0.1), "logit")
        truth = 0.5  # person ~ Bernoulli(logistic(0.5 * price))
        for name, r in estimates(d, term=1).items():
            if name in cover:
                cover[name].append(r["low"][1] <= truth <= r["high"][1])
    assert np.mean(cover["naive"]) < 0.5 and np.mean(cover["DSL"]) >= 0.9 and np.mean(cover["PPI++"]) >= 0.9


def test_the_mean_and_ols_agree_with_ppi_python():
    import ppi_py as ppi

    rng = np.random.default_rng(2)
    n_gold, n = 400, 4000
    x = rng.normal(size=n)
    y = 1 + 2 * x + rng.normal(size=n)
    y_hat = y + 0.5 + 0.8 * rng.normal(size=n)  # a biased, noisy prediction of the outcome
    gold = np.zeros(n, bool)
    gold[:n_gold] = True
    X = np.column_stack([np.ones(n), x])
    d = Design(y_hat, X, np.where(gold, y, np.nan), X, gold, np.full(n, n_gold / n), "ols")
    ours = estimates(d, term=0)["PPI++"]
    low, high = ppi.ppi_mean_ci(y[gold], y_hat[gold], y_hat[~gold], alpha=0.05)
    mean = Design(y_hat, X[:, :1], np.where(gold, y, np.nan), X[:, :1], gold, np.full(n, n_gold / n), "ols")
    m = estimates(mean, term=0)["PPI++"]
    assert abs(m["estimate"][0] - (low + high) / 2) < 0.02 and abs((m["high"] - m["low"])[0] - (high - low)) < 0.02
    low, high = ppi.ppi_ols_ci(X[gold], y[gold], y_hat[gold], X[~gold], y_hat[~gold], alpha=0.05)
    assert np.allclose(ours["estimate"], (low + high) / 2, atol=0.03)
    assert np.allclose(ours["high"] - ours["low"], high - low, rtol=0.1)
