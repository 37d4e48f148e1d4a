"""``imagevars explain``: explanations of a model written to a folder, as figures and one table.

Two modes:

- no images: the lecture's figures on the model's own test set (MNIST for ``mnist-cnn``): one
  correctly and one wrongly classified test image per class (``--correct``, ``--incorrect``;
  both by default), each with its map for every class, in ``correct.png`` and ``incorrect.png``;
- images (a folder, glob, list or manifest, as ``imagevars run`` takes): each image resized to
  the model's input, explained, and drawn as an overlay in ``figures/``; unreadable files become
  error rows.

Either way ``explanations.parquet`` holds one row per image (see :mod:`.summary`) with the
provenance: model and parameter hashes, method, background draw and seed, versions.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .summary import error_table, schema


@dataclass
class ExplainReport:
    table: Any  # Results
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0


def explain_folder(
    model,
    images: str | os.PathLike | list | None = None,
    *,
    out: str | os.PathLike = "explanations",
    method: str = "deep",
    correct: bool = False,
    incorrect: bool = False,
    background: str | os.PathLike | None = None,
    n_background: int = 100,
    seed: int = 0,
    output: str = "probability",
    max_figures: int = 100,
    chunk: int = 64,
    progress: bool = True,
) -> ExplainReport:
    """Explain a model's predictions and write figures and ``explanations.parquet`` into ``out``.

    Args:
        model: registered name (``mnist-cnn``) or saved model folder.
        images: what to explain; None for the model's test set (``correct``/``incorrect`` picks).
        method: ``deep``, ``gradient`` or ``gradcam``.
        background: images to draw the SHAP background from (a folder, glob ...); default the
            model's training data when its card names it, else the explained images themselves.
        n_background, seed: how many background images, drawn with which seed.
        max_figures: at most this many per-image figures (the table covers every image).

    Example:
        >>> explain_folder("mnist-cnn", out="shap_mnist", correct=True, incorrect=True)  # doctest: +SKIP
    """
    import time

    from ..io.table import Results
    from ..train.loading import open_classifier

    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    clf = open_classifier(model)
    common = dict(method=method, output=output, n_background=n_background, seed=seed, progress=progress)
    if images is None:
        tables, files = _explain_test_set(clf, model, out, common, background, correct, incorrect)
        order = None
    else:
        tables, files, order = _explain_images(clf, images, out, common, background, max_figures, chunk)

    table = _concat(tables)
    if order is not None and len(table):
        table = Results(table.table.take(np.argsort(order, kind="stable")), table.provenance)
    files["table"] = table.to_parquet(out / "explanations.parquet")
    return ExplainReport(table, files, time.perf_counter() - t0)


def _explain_test_set(clf, model, out: Path, common: dict, background, correct: bool, incorrect: bool):
    """The lecture's figures: one right and one wrong test image per class, from the model's test set."""
    from ..train.figures import pick_examples
    from ..train.session import default_data, load_training_data
    from .attribution import explain

    size, _, channels = clf.card.input_size
    seed, method, files, tables = common["seed"], common["method"], {}, []
    data = default_data(clf)
    if data is None:
        raise ValueError(f"say which images to explain with {model!r}: its card names no test set")
    loaded = load_training_data(
        data, seed=int(clf.card.training.get("seed", 0)), size=size, progress=common["progress"]
    )
    test_x, test_y = loaded["test"]
    bg = (
        _load_background(background, size, channels, seed, common["n_background"]) if background else loaded["train"][0]
    )
    common = {**common, "background_name": str(background) if background else f"{data} training split"}
    pred = clf.predict(test_x).argmax(1)
    kinds = [k for k, on in (("correct", correct), ("incorrect", incorrect)) if on] or ["correct", "incorrect"]
    for kind in kinds:
        idx = [i for i in pick_examples(test_y, pred, kind == "correct", seed)[: len(clf.labels)] if i is not None]
        if not idx:
            print(f"no {kind}ly classified test images to show")
            continue
        e = explain(
            clf, test_x[idx], background=bg, y_true=test_y[idx], sources=[f"{data}:test:{i}" for i in idx], **common
        )
        title = f"{clf.card.name}: {'correctly' if kind == 'correct' else 'wrongly'} classified test images ({method})"
        files[kind] = e.plot(out / f"{kind}.png", title=title)
        tables.append(e.to_table())
    return tables, files


def _explain_images(clf, images, out: Path, common: dict, background, max_figures: int, chunk: int):
    """The user's images, ``chunk`` at a time: figures for the first ``max_figures``, a row for every one.

    Returns the tables, the files written and each row's input position (error rows included).
    """
    from ..io.sources import resolve
    from ..train.session import default_data, load_training_data
    from .attribution import explain

    size, _, channels = clf.card.input_size
    method, seed, files, tables = common["method"], common["seed"], {}, []
    paths = [it.source for it in resolve(images)]
    x, ok, errors = _load_images(paths, size, channels)
    sources = [paths[i] for i in ok]
    if method == "gradcam":
        bg = None
    elif background:
        bg = _load_background(background, size, channels, seed, common["n_background"])
        common = {**common, "background_name": str(background)}
    else:
        data = default_data(clf)
        bg = (
            load_training_data(
                data, seed=int(clf.card.training.get("seed", 0)), size=size, progress=common["progress"]
            )["train"][0]
            if data
            else x
        )
        common = {**common, "background_name": f"{data} training split" if data else "the explained images"}
    done = 0
    for i in range(0, len(x), chunk):
        e = explain(clf, x[i : i + chunk], background=bg, sources=sources[i : i + chunk], **common)
        if i == 0 and method != "gradcam":  # the lecture's figure for the first ten
            files["explained"] = _subset(e, min(len(e), 10)).plot(out / "explained.png")
        n_fig = max(0, min(len(e), max_figures - done))
        if n_fig:
            names = [_figure_name(ok[i + j], sources[i + j]) for j in range(n_fig)]
            _subset(e, n_fig).overlays(out / "figures", names=names)
            done += n_fig
        tables.append(e.to_table())
    if not len(x):
        print("none of the images could be read")
    if errors:
        tables.append(error_table([(paths[i], reason) for i, reason in errors], tables[0].provenance if tables else {}))
    if done:
        files["figures"] = out / "figures"
    return tables, files, ok + [i for i, _ in errors]  # rows back in input order, error rows in place


def _load_images(paths: list[str], size: int, channels: int) -> tuple[np.ndarray, list[int], list[tuple[int, str]]]:
    """Read and resize each image: (arrays, positions read, (position, reason) of those that failed)."""
    from ..io.decode import DecodeError, decode, fit_array
    from ..io.sources import read_source

    arrays, ok, errors = [], [], []
    for i, p in enumerate(paths):
        try:
            arrays.append(fit_array(decode(read_source(p), p).rgb, size, channels))
            ok.append(i)
        except DecodeError as exc:
            errors.append((i, str(exc)))
    x = np.stack(arrays) if arrays else np.zeros((0, size, size, channels), np.uint8)
    return x, ok, errors


def _load_background(spec, size: int, channels: int, seed: int, n: int) -> np.ndarray:
    from ..io.sources import resolve

    paths = [it.source for it in resolve(spec)]
    rng = np.random.default_rng(seed)
    if len(paths) > n:  # read only what will be used
        paths = [paths[i] for i in np.sort(rng.choice(len(paths), n, replace=False))]
    x, _, _ = _load_images(paths, size, channels)
    if not len(x):
        raise ValueError(f"the background {spec} holds no readable images")
    return x


def _figure_name(i: int, source: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(source).stem)[:60]
    return f"{i:05d}_{stem}"


def _subset(e, n: int):
    import dataclasses

    return dataclasses.replace(
        e,
        values=e.values[:n],
        targets=e.targets[:n],
        pixels=e.pixels[:n],
        outputs=e.outputs[:n],
        probabilities=e.probabilities[:n],
        sources=e.sources[:n],
        y_true=None if e.y_true is None else e.y_true[:n],
    )


def _concat(tables):
    import pyarrow as pa

    from ..io.table import Results

    if not tables:
        return Results(schema().empty_table(), {})
    return Results(pa.concat_tables([t.table for t in tables]), tables[0].provenance)
