"""Cross-validated heads, proven by simulation with known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imagevars.learn.fit import ImagePlusTabular, cross_validate, final_head, interval, kind_of


def _linear(n, d=20, sigma=1.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = np.zeros(d)
    w[:3] = [1.0, -1.0, 0.5]
    w /= np.linalg.norm(w)
    return X, X @ w, rng.normal(scale=sigma, size=n)


def test_classification_accuracy_matches_the_bayes_rate():
    sigma = 0.75
    X, signal, noise = _linear(1500, sigma=sigma)
    y = np.where(signal + noise > 0, "yes", "no")
    bayes = 1 - math.acos(1 / math.sqrt(1 + sigma**2)) / math.pi  # P(sign(s) == sign(s + e)), s ~ N(0, 1)
    r = cross_validate(X, y, folds=5)
    acc = r["metrics"]["accuracy"]
    assert r["kind"] == "classes" and bayes - 0.05 < acc["mean"] < bayes + 0.03, (acc, bayes)
    assert acc["low"] < acc["mean"] < acc["high"] and r["baseline"]["accuracy"]["mean"] < 0.56
    assert 0.5 < r["metrics"]["auc"]["mean"] <= 1 and r["metrics"]["brier"]["mean"] < r["baseline"]["brier"]["mean"]
    curve = [p["accuracy"] for p in r["learning_curve"]]
    assert len(curve) == 3 and curve[-1] >= curve[0] - 0.02  # more labels, no worse


def test_regression_r2_matches_the_true_share_of_explained_variance():
    sigma = 0.8
    X, signal, noise = _linear(1500, sigma=sigma, seed=1)
    r = cross_validate(X, 3.0 + signal + noise, folds=5)
    truth = 1 / (1 + sigma**2)
    assert r["kind"] == "number" and abs(r["metrics"]["r2"]["mean"] - truth) < 0.04, (r["metrics"], truth)
    assert abs(r["metrics"]["rmse"]["mean"] - sigma) < 0.06 and r["baseline"]["r2"]["mean"] < 0.01


def test_grouped_folds_stop_a_model_from_recognising_groups():
    """The label is one coin flip per brand; the features say which brand: nothing real to learn."""
    rng = np.random.default_rng(2)
    brands = np.repeat(np.arange(40), 15)
    X = 10 * np.eye(40)[brands] + rng.normal(size=(len(brands), 40))  # each brand has its own look
    y = np.where(rng.random(40) < 0.5, "a", "b")[brands]
    leaky = cross_validate(X, y, folds=5)
    honest = cross_validate(X, y, groups=brands, folds=5)
    assert leaky["metrics"]["accuracy"]["mean"] > 0.85  # it learned the brands
    assert abs(honest["metrics"]["accuracy"]["mean"] - 0.5) < 0.12 and honest["grouped"]


def test_the_final_head_reproduces_the_fitted_model():
    from sklearn.linear_model import LogisticRegressionCV  # noqa: F401 (the family the head mirrors)

    X, signal, noise = _linear(300, sigma=0.3, seed=3)
    y = np.where(signal + noise > 0.3, "hi", np.where(signal + noise < -0.3, "lo", "mid"))
    head = final_head(X, y, "classes", "level")
    p = head.predict(X)
    assert head.classes == ("hi", "lo", "mid") and p.shape == (300, 3) and np.allclose(p.sum(1), 1)
    assert (np.asarray(head.classes)[p.argmax(1)] == y).mean() > 0.85
    number = final_head(X, signal, "number", "score")
    assert np.corrcoef(number.predict(X), signal)[0, 1] > 0.99


@pytest.mark.parametrize(
    "y, kind, says",
    [
        (["a"] * 20, None, "every image has the same label"),
        (["a"] * 19 + ["b"], None, "class 'b' has 1 example"),
        ([1.5] * 10 + ["text"] * 10, "number", "a number target has text in it"),
        ([i / 7 for i in range(30)] + ["n/a"], None, "a number target has text in it \\('n/a'\\)"),
        (["a", "b"] * 2, None, "4 labelled images for 5 folds"),
    ],
)
def test_what_cannot_be_learned_is_refused(y, kind, says):
    X = np.random.default_rng(0).normal(size=(len(y), 3))
    with pytest.raises(ValueError, match=says):
        cross_validate(X, np.asarray(y, dtype=object), kind=kind, folds=5)


def test_kinds_and_intervals():
    assert kind_of(["a", "b"]) == "classes" and kind_of([0, 1, 2, 1]) == "classes" and kind_of([0.5, 1.2]) == "number"
    assert kind_of(np.arange(100)) == "number"
    v = interval([0.8, 0.9, 0.85, 0.95, 0.9])
    assert v["low"] < 0.88 < v["high"] and round(v["mean"], 3) == 0.88


def test_an_out_of_time_split_is_tested_once_with_bootstrap_intervals():
    from imagevars.learn.fit import holdout

    sigma = 0.8
    X, signal, noise = _linear(1200, sigma=sigma, seed=4)
    year = np.random.default_rng(4).integers(2000, 2020, 1200)
    r = holdout(X, 3.0 + signal + noise, year < 2015)
    truth = 1 / (1 + sigma**2)
    r2 = r["metrics"]["r2"]
    assert r["n_train"] == (year < 2015).sum() and r["n_test"] == (year >= 2015).sum() and r["folds"] is None
    assert r2["low"] < truth < r2["high"] and r2["high"] - r2["low"] < 0.15 and r["baseline"]["r2"]["mean"] < 0.02
    with pytest.raises(ValueError, match="puts every image in training"):
        holdout(X, signal, np.ones(1200, bool))


def test_image_plus_tabular_keeps_the_tabular_effects_that_one_penalty_would_shrink():
    from imagevars.learn.fit import holdout

    rng = np.random.default_rng(0)
    n, d = 400, 600  # more image features than training rows: the image block needs a strong penalty
    image = rng.normal(size=(n, d))
    tabular = rng.normal(size=(n, 3))
    y = image[:, :20].sum(1) / np.sqrt(20) + 2.0 * tabular[:, 0] - 1.5 * tabular[:, 1] + rng.normal(size=n) * 0.5
    train = np.arange(n) < 300
    X = np.hstack([image, tabular])
    one_penalty = holdout(X, y, train)["metrics"]["r2"]["mean"]
    stacked = holdout(X, y, train, make_model=lambda kind, seed: ImagePlusTabular(kind, d, seed))["metrics"]["r2"][
        "mean"
    ]
    best = 1 - 0.25 / np.var(y[~train])  # the noise's share is all that cannot be explained
    assert stacked > one_penalty + 0.1 and stacked > best - 0.3
    # classes: the same for a logistic model
    cls = np.where(y > 0, "high", "low")
    got = holdout(X, cls, train, make_model=lambda kind, seed: ImagePlusTabular(kind, d, seed))["metrics"]["accuracy"]
    assert got["mean"] > holdout(X, cls, train)["metrics"]["accuracy"]["mean"] + 0.05
