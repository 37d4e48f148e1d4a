"""``imagevars learn``: labels -> backbone features (cached) -> cross-validated heads -> a saved measure and its report.

The output folder holds::

    model.safetensors, card.json   the learned measure (``imagevars run classify --model FOLDER``)
    features.parquet               the backbone's features per image: a re-fit encodes nothing again
    report.json, report.md         per target: CV metrics with 95% intervals, baseline, learning curve,
                                   confusion matrix; the images that could not be read
    <target>_confusion.png, <target>_learning_curve.png
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..io import provenance
from ..io.files import atomic_write
from . import report as write_report
from .fit import CLASSES, ImagePlusTabular, cross_validate, final_head, holdout, kind_of
from .labels import expand_sets, none_readable, read_labels


@dataclass
class LearnReport:
    """What :func:`learn` made: the measure's folder, the CV results per target, the images left out."""

    folder: Path
    results: dict[str, dict[str, Any]]
    dropped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        """Per target, each metric's mean over the folds."""
        return {t: {m: v["mean"] for m, v in r["metrics"].items()} for t, r in self.results.items()}


def learn(labels: str | os.PathLike, targets: Sequence[str], out: str | os.PathLike, *,
          features: str = "efficientnet-lite0", group: str | None = None, path_column: str | None = None,
          folds: int = 5, split: str | None = None, tabular: Sequence[str] = (), multilabel: Sequence[str] = (),
          seed: int = 0, progress: bool = True) -> LearnReport:
    """Learn a measure of each target from labelled images; save it with its cross-validated report.

    Args:
        labels: a CSV or Parquet file with a path column and the target columns, or class folders.
        targets: the columns to learn (several: one head each; classes or a number, found from the values).
        out: the folder for the measure, its features cache and its report.
        features: the backbone whose features the heads read (a registered model with features).
        group: a column whose values never straddle training and test folds (brand, property).
        folds: outer cross-validation folds.
        split: instead of cross-validation, a condition on the label file's columns that picks the
            training rows (``"year < 2015"``); the model is tested once on the rest (out of time).
        tabular: columns of the label file (numbers, or categories one-hot encoded) to compare with:
            the report adds the same estimate for the tabular columns alone and for image features
            plus tabular columns, which says what the image adds. The saved measure reads images only.
        multilabel: target columns that hold sets of labels (``"rugged;fun"``): each label becomes a yes/no
            target of its own, named ``<column>_<label>`` (an image may have several at once).
        seed: seeds the folds and the learning curve's subsamples.

    Example:
        >>> report = learn("labels.csv", ["professional"], "pro-vs-amateur/", group="property")  # doctest: +SKIP
        >>> report.results["professional"]["metrics"]["accuracy"]  # doctest: +SKIP
        {'mean': 0.86, 'low': 0.81, 'high': 0.91}
    """
    from ..models import linear_probe
    from ..models.card import ModelCard

    # 1. Labels and features (the features computed once per image and kept)
    embed = _backbone(features)
    backbone, backbone_sha = embed.card, _backbone_id(embed)
    clock = provenance.begin()
    out = Path(out)
    targets = list(dict.fromkeys([*targets, *multilabel]))
    df = read_labels(labels, targets, path_column=path_column, group=group)
    targets = list(targets) or [c for c in df.columns if c not in ("source", group)]
    for column in multilabel:
        df, names = expand_sets(df, column)
        targets = [t for t in targets if t != column] + names
    X, ok, dropped = _features(df["source"].tolist(), embed, out, progress)
    if not ok.any():
        raise none_readable(dropped)
    df = df[ok].reset_index(drop=True)

    # 2. Cross-validated estimates and the final heads, target by target
    results, heads = _estimates(df, X, targets, group=group, folds=folds, split=split, tabular=tabular, seed=seed)

    # 3. The measure, its card and its report
    lines = ("\t".join(map(str, row)) for row in df[["source", *targets]].itertuples(index=False))
    data_sha = hashlib.sha256("\n".join(lines).encode()).hexdigest()  # which images, which labels
    summary = {t: {k: v for k, v in r.items() if k not in ("oof", "y", "rows")} for t, r in results.items()}
    card = ModelCard(name=out.name or "measure", task="classify",
                     labels=tuple(heads[0].classes) if len(heads) == 1 and heads[0].kind == CLASSES else (),
                     input_size=backbone.input_size, scale=backbone.scale, mean=backbone.mean, std=backbone.std,
                     license="the license of the labels and images it was learned from",
                     description=f"learned by imagevars learn: {', '.join(targets)} from {features} features",
                     config={"backbone": _pinned(embed), "backbone_sha256": backbone_sha,
                             "features": int(X.shape[1]), "crop": backbone.config.get("crop", 0.875)},
                     training={"labels": str(labels), "n": int(len(df)), "dropped": len(dropped), "folds": folds,
                               "group": group, "split": split, "seed": seed, "data_sha256": data_sha, "cv": summary})
    linear_probe.save(out, heads, card)
    record = provenance.record(clock, [{"name": "learn", "params": {"targets": targets, "features": features,
                                                                   "group": group, "folds": folds, "split": split,
                                                                   "tabular": list(tabular), "multilabel": list(multilabel),
                                                                   "seed": seed},
                                        "model": features, "weights_sha256": backbone_sha}],
                               input=str(labels), n=int(len(df)))
    report = LearnReport(out, results, dropped, record["seconds"])
    write_report.write(report, summary, record, df["source"].tolist())
    return report


def _estimates(df, X, targets: list[str], *, group, folds: int, split, tabular: Sequence[str], seed: int):
    """2. Each target's cross-validated (or out-of-time) estimate, compared with tabular columns when given,
    and its final head fitted on every row."""
    results, heads = {}, []
    groups = df[group].to_numpy() if group else None
    T = _tabular(df, tabular) if tabular else None  # the same for every target
    for target in targets:
        y = df[target]
        if y.isna().any():
            raise ValueError(f"{target}: {int(y.isna().sum())} image(s) have no label; fill or drop those rows")
        kind = kind_of(y)
        estimate = _estimator(df, split, groups, folds, seed, kind, target)
        results[target] = estimate(X, y)
        if T is not None:
            both = functools.partial(_with_tabular, n_image=X.shape[1])
            results[target]["compare"] = {"tabular only": estimate(T, y)["metrics"],
                                          "image + tabular": estimate(np.hstack([X, T]), y, both)["metrics"]}
        heads.append(final_head(X, y, kind, target, seed))
    return results, heads


def _features(sources: list[str], embed, out: Path, progress: bool):
    """(X, ok, dropped): the backbone's features of each source (cached in ``out/features.parquet``)."""
    import pandas as pd
    import pyarrow.parquet as pq

    from ..pipeline.runner import run

    backbone = embed.model_name
    cache = out / "features.parquet"
    known = {}
    if cache.exists():
        meta = json.loads(pq.read_schema(cache).metadata[b"imagevars"])
        if meta["tasks"][0]["params"].get("model") == backbone:
            t = pd.read_parquet(cache, columns=["source", "error", "embed_vector"])
            known = {s: (e, v) for s, e, v in t.itertuples(index=False)}
    missing = list(dict.fromkeys(s for s in sources if s not in known))
    if missing:
        listing = out / "features-todo.txt"
        atomic_write(listing, lambda tmp: Path(tmp).write_text("\n".join(missing) + "\n"))
        new = run([embed], listing, progress=progress).to_pandas()
        listing.unlink()
        known.update({s: (e, v) for s, e, v in new[["source", "error", "embed_vector"]].itertuples(index=False)})
        import pyarrow as pa

        from ..io.table import Results

        table = pa.table({"source": list(known), "error": [_error(e) for e, _ in known.values()],
                          "embed_vector": pa.array([None if v is None else np.asarray(v, np.float32) for _, v in
                                                    known.values()], pa.list_(pa.float32()))})
        Results(table, {"tasks": [{"name": "embed", "params": {"model": backbone}}]}).write(cache)
    ok = np.array([_error(known[s][0]) is None for s in sources])
    dim = next(len(known[s][1]) for s, good in zip(sources, ok) if good) if ok.any() else 0
    X = np.stack([np.asarray(known[s][1], np.float32) for s, good in zip(sources, ok) if good]) if ok.any() \
        else np.zeros((0, dim), np.float32)
    dropped = [(s, str(known[s][0])) for s, good in zip(sources, ok) if not good]
    return X, ok, dropped


def _backbone(features: str):
    """The embed task that gives the features: a registered backbone, or a hub one (hf:<owner>/<name>)."""
    from ..tasks.embed import EmbedTask

    try:
        return EmbedTask(features)
    except ValueError as exc:
        raise ValueError(f"--features {features}: {exc}") from None


def _backbone_id(embed) -> str | None:
    """What pins the backbone's weights: their sha256, or the hub commit they were loaded from."""
    if embed.card.weights is not None:
        return embed.card.weights.sha256
    return embed.model.provenance().get("commit") if hasattr(embed.model, "provenance") else None


def _pinned(embed) -> str:
    """The backbone as the measure names it: a hub model at the commit it learned from, so it applies to the same."""
    if not hasattr(embed.model, "provenance"):
        return embed.model_name
    hub = embed.model.provenance()
    if not embed.model_name.startswith("hf:") or not hub.get("commit"):
        return embed.model_name  # a local save_pretrained folder: its path
    return f"hf:{hub['hf_repo']}@{hub['commit']}"


def _estimator(df, split, groups, folds: int, seed: int, kind: str, target: str):
    """The estimate every feature set of a target gets: the same folds, or the same split."""
    if split:
        train = _split(df, split)
        return lambda X, y, make=None: {**holdout(X, y, train, kind=kind, seed=seed, name=target, make_model=make),
                                        "split": split}
    return lambda X, y, make=None: cross_validate(X, y, kind=kind, groups=groups, folds=folds, seed=seed, name=target,
                                                  make_model=make)


def _tabular(df, columns: Sequence[str]) -> np.ndarray:
    """The tabular columns as numbers: numeric ones as they are, others one-hot (one column per category)."""
    import pandas as pd

    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"--tabular: no column(s) {', '.join(missing)} in the label file")
    empty = [c for c in columns if df[c].isna().any()]
    if empty:
        raise ValueError(f"--tabular {empty[0]}: {int(df[empty[0]].isna().sum())} row(s) have no value; fill them")
    parts = [df[[c]].astype(float) if pd.api.types.is_numeric_dtype(df[c]) else
             pd.get_dummies(df[c].astype(str), prefix=c, dtype=float) for c in columns]
    return pd.concat(parts, axis=1).to_numpy(np.float64)


def _with_tabular(kind: str, seed: int, n_image: int) -> ImagePlusTabular:
    return ImagePlusTabular(kind, n_image, seed)


def _split(df, condition: str):
    """The training rows: where ``condition`` on the label file's columns holds (pandas' query syntax)."""
    import pandas as pd

    try:
        mask = df.eval(condition)
    except Exception as exc:  # noqa: BLE001 - any failure of the user's condition is one message
        raise ValueError(f"--split {condition!r}: cannot be evaluated on the label file's columns "
                         f"({', '.join(map(str, df.columns))}): {exc}") from None
    if not isinstance(mask, pd.Series) or mask.dtype != bool:
        raise ValueError(f"--split {condition!r}: must be a condition, true for the training rows (e.g. 'year < 2015')")
    return mask.to_numpy()


def _error(e) -> str | None:
    """An error cell as text, or None (pandas reads a missing one as None or NaN)."""
    return None if e is None or (isinstance(e, float) and np.isnan(e)) else str(e)
