"""The labels a measure is learned from: a CSV or Parquet file (a path column and target columns), or class folders."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..io.decode import IMAGE_EXTENSIONS
from ..io.sources import PATH_COLUMNS, walk


def read_labels(
    spec: str | os.PathLike, targets: Sequence[str], *, path_column: str | None = None, group: str | None = None
):
    """A DataFrame with ``source`` and the file's other columns (targets, ``group`` ...): one row per labelled image.

    A folder is read as class folders (``FOLDER/<class>/<image>``): one target, named ``targets[0]``
    (default ``class``). Paths in a file are read as ``imagevars run`` reads a manifest's: as given.

    Example:
        >>> read_labels("labels.csv", ["rugged"], group="brand").columns.tolist()  # doctest: +SKIP
        ['source', 'rugged', 'brand']
    """
    import pandas as pd

    path = Path(spec)
    if path.is_dir():
        name = targets[0] if targets else "class"
        rows = [
            (p, Path(p).relative_to(path).parts[0])
            for p in walk(path, IMAGE_EXTENSIONS)
            if len(Path(p).relative_to(path).parts) > 1
        ]
        if not rows:
            raise ValueError(f"{path} has no class folders with images (FOLDER/<class>/<image>)")
        return pd.DataFrame(rows, columns=["source", name])
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: pass a CSV or Parquet file of labels, or class folders")
    df = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    column = path_column or next((c for c in PATH_COLUMNS if c in df.columns), None)
    if column is None or column not in df.columns:
        raise ValueError(f"{path} has no path column ({', '.join(PATH_COLUMNS)}); name it with --path-column")
    if not targets:
        raise ValueError("name the label column(s) to learn with --target")
    missing = [c for c in [*targets, *([group] if group else [])] if c not in df.columns]
    if missing:
        raise ValueError(f"{path} has no column(s) {', '.join(missing)}; it has {', '.join(map(str, df.columns))}")
    out = df.rename(columns={column: "source"})  # every column: a --split condition may use any of them
    out["source"] = out["source"].astype(str)
    return out.reset_index(drop=True)


def expand_sets(df, column: str):
    """A column of label sets (``"rugged;fun"``, ``|`` works too; empty: none) as one yes/no column per label.

    Returns the frame with columns ``<column>_<label>`` added, and their names: each becomes a
    target of its own (multi-label: an image can be rugged and fun at once).

    Example:
        >>> import pandas as pd
        >>> df, names = expand_sets(pd.DataFrame({"tags": ["fun;rugged", "fun", ""]}), "tags")
        >>> names, df["tags_rugged"].tolist()
        (['tags_fun', 'tags_rugged'], ['yes', 'no', 'no'])
    """
    import re

    if column not in df.columns:
        raise ValueError(
            f"--multi-label {column}: no such column; the label file has {', '.join(map(str, df.columns))}"
        )
    sets = [
        frozenset(t.strip() for t in re.split(r"[;|]", "" if v is None or v != v else str(v)) if t.strip())
        for v in df[column]
    ]
    labels = sorted(set().union(*sets))
    if not labels:
        raise ValueError(f"--multi-label {column}: every cell is empty; write each image's labels as 'a;b'")
    names = []
    for label in labels:
        name = f"{column}_" + "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")
        if name in df.columns or name in names:
            raise ValueError(f"--multi-label {column}: label {label!r} would become column {name}, which exists")
        df[name] = ["yes" if label in s else "no" for s in sets]
        names.append(name)
    return df, names


def none_readable(dropped: list[tuple[str, str]]) -> ValueError:
    """The error for labels none of whose images could be read, with a hint when none of the files exist."""
    import os

    message = f"none of the {len(dropped)} labelled images could be read; the first reason: {dropped[0][1]}"
    if all("not found" in e or "No such file" in e for _, e in dropped):
        message += (
            f". Paths in a label file are read as written, from the current folder ({os.getcwd()}): "
            "run from the folder they start from, or write full paths"
        )
    return ValueError(message)
