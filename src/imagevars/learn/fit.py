"""Cross-validated linear models on backbone features: the estimate a referee asks for, and the final head.

For each target, scikit-learn's penalised linear models on standardised features, their penalty
chosen by an inner cross-validation inside each training fold (so the outer estimate is honest):

- classes (text or a few integers): logistic regression (``LogisticRegressionCV``, balanced class
  weights); accuracy, macro-F1, AUC (one-vs-rest for more than two classes), Brier score;
- a number: ridge regression (``RidgeCV``); R² and RMSE.

The outer folds are stratified by class, grouped when ``groups`` is given (no brand or property
in training and test at once). Each metric is reported as the mean over folds with a 95%
interval (t with k - 1 degrees of freedom over the k folds), beside the same folds' baseline
(the majority class, or the training mean) and a learning curve (the metric with a quarter, half
and all of each training fold).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..models.linear_probe import Head

NUMBER, CLASSES = "number", "classes"


def kind_of(y) -> str:
    """"classes" for text, booleans or at most 20 distinct integers; "number" otherwise (also for a
    column of mostly numbers with some text in it, so that the text is reported, not learned as classes)."""
    import pandas as pd

    y = pd.Series(y)
    if not pd.api.types.is_bool_dtype(y) and not pd.api.types.is_numeric_dtype(y):
        numbers = pd.to_numeric(y, errors="coerce")
        # mostly numbers, many of them, and some text ("n/a"): a number with typos, which check() names
        return NUMBER if numbers.notna().mean() >= 0.8 and numbers.nunique() > 20 else CLASSES
    if pd.api.types.is_bool_dtype(y):
        return CLASSES
    integers = pd.api.types.is_integer_dtype(y) or bool(np.all(np.mod(y.dropna(), 1) == 0))
    return CLASSES if integers and y.nunique() <= 20 else NUMBER


def check(y, kind: str, folds: int, name: str, groups=None) -> None:
    """Refuse what cannot be learned or estimated, each with a message that says what to do."""
    import pandas as pd

    y = pd.Series(y)
    if len(y) < folds:
        raise ValueError(f"{name}: {len(y)} labelled images for {folds} folds; label more or use fewer --folds")
    if kind == NUMBER:
        if not pd.api.types.is_numeric_dtype(y):
            raise ValueError(f"{name}: a number target has text in it ({y[~pd.to_numeric(y, errors='coerce').notna()].iloc[0]!r})")
        return
    counts = y.astype(str).value_counts()
    if len(counts) < 2:
        raise ValueError(f"{name}: every image has the same label ({counts.index[0]!r}): there is nothing to learn")
    small = counts[counts < folds]
    if len(small):
        raise ValueError(f"{name}: class {small.index[0]!r} has {small.iloc[0]} example(s), fewer than the {folds} "
                         "folds: label more of it, merge it with another class, or use fewer --folds")
    if groups is not None and pd.Series(groups).nunique() < folds:
        raise ValueError(f"{name}: {pd.Series(groups).nunique()} groups for {folds} folds; use fewer --folds")


def _model(kind: str, seed: int):
    from sklearn.linear_model import LogisticRegressionCV, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == NUMBER:
        return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 5, 15)))
    return make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=np.logspace(-4, 2, 13), cv=3, max_iter=3000,
                                                                class_weight="balanced", scoring="neg_log_loss",
                                                                random_state=seed))


def _fit(model, X, y):
    """Fit, without scikit-learn's notices of default values that change in later releases (the values are set here)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return model.fit(X, y)


def _baseline(kind: str):
    from sklearn.dummy import DummyClassifier, DummyRegressor

    return DummyRegressor() if kind == NUMBER else DummyClassifier(strategy="most_frequent")


def _folds(y, groups, folds: int, kind: str, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

    if kind == NUMBER:
        splitter = GroupKFold(folds) if groups is not None else KFold(folds, shuffle=True, random_state=seed)
    else:
        splitter = (StratifiedGroupKFold(folds, shuffle=True, random_state=seed) if groups is not None
                    else StratifiedKFold(folds, shuffle=True, random_state=seed))
    return list(splitter.split(np.zeros(len(y)), y, groups))


def scores(kind: str, y_true, predicted, classes=None) -> dict[str, float]:
    """The metrics of one fold: from probabilities (N, K) for classes, from numbers for a number."""
    from sklearn import metrics

    if kind == NUMBER:
        return {"r2": float(metrics.r2_score(y_true, predicted)),
                "rmse": float(np.sqrt(metrics.mean_squared_error(y_true, predicted)))}
    p = np.asarray(predicted)
    onehot = (np.asarray(y_true)[:, None] == np.asarray(classes)[None, :]).astype(float)
    out = {"accuracy": float(metrics.accuracy_score(y_true, np.asarray(classes)[p.argmax(1)])),
           "macro_f1": float(metrics.f1_score(y_true, np.asarray(classes)[p.argmax(1)], average="macro",
                                              labels=list(classes), zero_division=0)),
           "brier": float(np.mean(np.sum((p - onehot) ** 2, axis=1)))}
    if len(set(y_true)) > 1:
        out["auc"] = float(metrics.roc_auc_score(onehot[:, 1], p[:, 1]) if len(classes) == 2
                           else metrics.roc_auc_score(onehot, p, average="macro", multi_class="ovr"))
    return out


def interval(values: list[float]) -> dict[str, float]:
    """Mean over folds with a 95% t-interval.

    Example:
        >>> {k: round(v, 3) for k, v in interval([0.8, 0.9, 0.85, 0.95, 0.9]).items()}
        {'mean': 0.88, 'low': 0.809, 'high': 0.951}
    """
    from scipy import stats

    v = np.asarray(values, float)
    if len(v) < 2:
        return {"mean": float(v.mean()), "low": float("nan"), "high": float("nan")}
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return {"mean": float(v.mean()), "low": float(v.mean() - half), "high": float(v.mean() + half)}


def _predict(model, kind: str, X, classes):
    """Numbers, or probabilities (N, len(classes)) from a model fitted on class codes (a fold may miss a class)."""
    if kind == NUMBER:
        return model.predict(X)
    p = np.zeros((len(X), len(classes)))
    p[:, np.asarray(model.classes_, int)] = model.predict_proba(X)
    return p


def _prepared(y, kind: str | None):
    """(labels, kind, classes, what the models are fitted on): class labels as text, and as their
    positions in the sorted ``classes`` (scikit-learn's balanced class weights fail on labels such
    as "0", "1", "7", text that looks like numbers, so the models see codes); a number as it is."""
    import pandas as pd

    y = pd.Series(y).to_numpy()
    kind = kind or kind_of(y)
    if kind == NUMBER:
        return y, kind, None, y
    y = y.astype(str)
    classes = np.unique(y)
    return y, kind, classes, np.searchsorted(classes, y)


def _fit_predict(X: np.ndarray, target: np.ndarray, rows: np.ndarray, X_test: np.ndarray, kind: str, classes,
                 seed: int, model=None, make_model=None):
    """Fit ``model`` (default: ``make_model(kind, seed)``, or the target's penalised linear model) on ``rows``;
    predict ``X_test``."""
    return _predict(_fit(model or (make_model or _model)(kind, seed), X[rows], target[rows]), kind, X_test, classes)


class ImagePlusTabular:
    """Image features and tabular columns in one model, the penalty falling on the image features.

    One ridge or logistic penalty over 1,280 image features and five tabular columns would shrink
    the tabular coefficients as hard as the image ones, so a model with both could predict worse
    than the tabular columns alone. Here every column is standardised and the tabular ones are
    then multiplied by ``weight`` (10): a penalty on a coefficient acts on its square, so the
    tabular coefficients are penalised ``weight``² (100) times less, nearly as in unpenalised
    regression, while cross-validation tunes the penalty the many image features need. The first
    ``n_image`` columns of X are the image features.

    Example:
        >>> rng = np.random.default_rng(0); img = rng.normal(size=(300, 50)); tab = rng.normal(size=(300, 2))
        >>> y = img[:, 0] + 3 * tab[:, 0] + rng.normal(size=300) * 0.1
        >>> m = ImagePlusTabular("number", 50).fit(np.hstack([img, tab])[:200], y[:200])
        >>> float(np.corrcoef(m.predict(np.hstack([img, tab])[200:]), y[200:])[0, 1]) > 0.95
        True
    """

    def __init__(self, kind: str, n_image: int, seed: int = 0, weight: float = 10.0):
        self.kind, self.n_image, self.seed, self.weight = kind, n_image, seed, weight

    def _scaled(self, X) -> np.ndarray:
        Z = self.scaler_.transform(X)
        Z[:, self.n_image :] *= self.weight
        return Z

    def fit(self, X, y):
        from sklearn.preprocessing import StandardScaler

        self.scaler_ = StandardScaler().fit(X)
        self.model_ = _fit(_model(self.kind, self.seed).steps[-1][1], self._scaled(X), y)
        self.classes_ = getattr(self.model_, "classes_", None)
        return self

    def predict(self, X):
        return self.model_.predict(self._scaled(X))

    def predict_proba(self, X):
        return self.model_.predict_proba(self._scaled(X))


def cross_validate(X: np.ndarray, y, *, kind: str | None = None, groups=None, folds: int = 5, seed: int = 0,
                   name: str = "target", make_model=None) -> dict[str, Any]:
    """Out-of-fold predictions, per-fold metrics with 95% intervals, the baseline and a learning curve.

    Example:
        >>> rng = np.random.default_rng(0); X = rng.normal(size=(200, 5)); y = np.where(X[:, 0] > 0, "a", "b")
        >>> cross_validate(X, y)["metrics"]["accuracy"]["mean"] > 0.9
        True
    """
    y, kind, classes, target = _prepared(y, kind)
    check(y, kind, folds, name, groups)
    splits = _folds(y, groups, folds, kind, seed)
    oof = np.zeros(len(y)) if kind == NUMBER else np.zeros((len(y), len(classes)))
    per_fold, base_fold, curve = [], [], {f: [] for f in (0.25, 0.5, 1.0)}
    rng = np.random.default_rng(seed)
    for train, test in splits:
        oof[test] = _fit_predict(X, target, train, X[test], kind, classes, seed, make_model=make_model)
        per_fold.append(scores(kind, y[test], oof[test], classes))
        base = _fit_predict(X, target, train, X[test], kind, classes, seed, model=_baseline(kind))
        base_fold.append(scores(kind, y[test], base, classes))
        for share in (0.25, 0.5):  # the learning curve: fewer labels, same test fold
            part = _subsample(train, y, share, kind, rng)
            if part is not None:
                curve[share].append(scores(kind, y[test], _fit_predict(X, target, part, X[test], kind, classes, seed,
                                                                       make_model=make_model),
                                           classes))
        curve[1.0].append(per_fold[-1])
    primary = "r2" if kind == NUMBER else "accuracy"
    return {
        "kind": kind, "n": int(len(y)), "folds": folds, "grouped": groups is not None,
        "classes": None if classes is None else [str(c) for c in classes],
        "metrics": {m: _bounded(m, interval([f[m] for f in per_fold if m in f])) for m in per_fold[0]},
        "baseline": {m: _bounded(m, interval([f[m] for f in base_fold if m in f])) for m in base_fold[0]},
        "learning_curve": [{"labels": int(round(share * len(y) * (folds - 1) / folds)),
                            primary: interval([f[primary] for f in runs])["mean"]}
                           for share, runs in curve.items() if runs],
        "oof": oof, "y": y, "rows": np.arange(len(y)),
    }


_RANGES = {"accuracy": (0, 1), "macro_f1": (0, 1), "auc": (0, 1), "brier": (0, 2), "r2": (-np.inf, 1),
           "rmse": (0, np.inf)}


def _bounded(metric: str, v: dict[str, float]) -> dict[str, float]:
    """An interval cut to the values the metric can take (with few folds, mean ± t x se overshoots)."""
    lo, hi = _RANGES.get(metric, (-np.inf, np.inf))
    return {"mean": v["mean"], "low": float(max(v["low"], lo)), "high": float(min(v["high"], hi))}


def _subsample(train: np.ndarray, y, share: float, kind: str, rng) -> np.ndarray | None:
    """A random ``share`` of the training fold that still holds every class at least twice (or None)."""
    part = rng.choice(train, max(2, int(round(share * len(train)))), replace=False)
    if kind == CLASSES and (len(np.unique(y[part])) < len(np.unique(y[train])) or
                            np.unique(y[part], return_counts=True)[1].min() < 3):
        return None
    return part


def final_head(X: np.ndarray, y, kind: str, name: str, seed: int = 0) -> Head:
    """The model fitted on every label, as a :class:`~imagevars.models.linear_probe.Head`."""
    _, kind, names, target = _prepared(y, kind)
    pipe = _fit(_model(kind, seed), X, target)
    scaler, linear = pipe.steps[0][1], pipe.steps[1][1]
    coef = np.atleast_2d(linear.coef_)
    intercept = np.atleast_1d(linear.intercept_)
    classes = () if kind == NUMBER else tuple(str(names[c]) for c in linear.classes_)
    return Head(name, kind, classes, scaler.mean_, scaler.scale_, coef, intercept)


def bootstrap(kind: str, y_test, classes, seed: int = 0, boot: int = 1000):
    """A function: predictions for ``y_test`` -> each metric with a 95% bootstrap interval over the test
    images (the same ``boot`` resamples for every set of predictions, so model and baseline compare alike)."""
    y_test = np.asarray(y_test)
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(y_test), len(y_test)) for _ in range(boot)]

    def with_interval(p) -> dict[str, dict[str, float]]:
        point = scores(kind, y_test, p, classes)
        runs = [scores(kind, y_test[d], p[d], classes) for d in draws if kind == NUMBER or len(set(y_test[d])) > 1]
        return {m: _bounded(m, {"mean": v, "low": float(np.percentile([r[m] for r in runs if m in r], 2.5)),
                                "high": float(np.percentile([r[m] for r in runs if m in r], 97.5))})
                for m, v in point.items()}

    return with_interval


def holdout(X: np.ndarray, y, train: np.ndarray, *, kind: str | None = None, seed: int = 0, name: str = "target",
            boot: int = 1000, make_model=None) -> dict[str, Any]:
    """Fit on the ``train`` rows, test once on the others (an out-of-time split): metrics with 95% bootstrap intervals.

    Example:
        >>> rng = np.random.default_rng(0); X = rng.normal(size=(300, 4)); y = X[:, 0] + rng.normal(size=300) * 0.1
        >>> holdout(X, y, np.arange(300) < 200)["metrics"]["r2"]["mean"] > 0.9
        True
    """
    train = np.asarray(train, bool)
    if train.all() or not train.any():
        raise ValueError(f"{name}: the split puts {'every' if train.all() else 'no'} image in training; "
                         "it must leave some for each side")
    y, kind, classes, target = _prepared(y, kind)
    check(y[train], kind, 2, f"{name} (training side)")
    test = ~train
    predicted = _fit_predict(X, target, train, X[test], kind, classes, seed, make_model=make_model)
    base = _fit_predict(X, target, train, X[test], kind, classes, seed, model=_baseline(kind))
    rng = np.random.default_rng(seed)
    y_test = y[test]
    with_interval = bootstrap(kind, y_test, classes, seed, boot)
    primary = "r2" if kind == NUMBER else "accuracy"
    curve = []
    for share in (0.25, 0.5):  # the learning curve: fewer training labels, the same test images
        part = _subsample(np.flatnonzero(train), y, share, kind, rng)
        if part is not None:
            small = _fit_predict(X, target, part, X[test], kind, classes, seed, make_model=make_model)
            curve.append({"labels": int(len(part)), primary: scores(kind, y_test, small, classes)[primary]})
    curve.append({"labels": int(train.sum()), primary: scores(kind, y_test, predicted, classes)[primary]})  # all of them
    return {"kind": kind, "n": int(len(y)), "n_train": int(train.sum()), "n_test": int(test.sum()), "folds": None,
            "grouped": False, "classes": None if classes is None else [str(c) for c in classes],
            "metrics": with_interval(predicted), "baseline": with_interval(base), "learning_curve": curve,
            "oof": predicted, "y": y_test, "rows": np.flatnonzero(test)}
