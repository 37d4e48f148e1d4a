"""``imagevars report``: one self-contained HTML page for a table: the run, the errors, each variable
(definition, histogram, the images at its lowest, middle and highest values), objects drawn, video
timelines, and a table view to sort, filter and click.

Bounded whatever the table's size: histograms are binned, each variable shows 3 x ``strip``
thumbnails (160 px JPEGs made here, not the full images), at most ``max_variables`` variables get
strips, and the table view holds a random sample of ``max_rows`` rows (the page says so). The page
has no scripts or styles from elsewhere and makes no network request: it opens from ``file://``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..io.files import atomic_write
from ..io.html import fill, script_json
from ..io.html import text as escape_text
from ..io.redact import redact_all
from .definitions import definitions

KEYS = ("source", "frame", "time_s", "object", "error")
BOXES = ("x1", "y1", "x2", "y2")


def _read(table: str | os.PathLike):
    """(DataFrame, provenance, note): Parquet with its metadata, or CSV / Stata (with a sidecar if there is one)."""
    import pandas as pd

    path = Path(table)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: pass a table imagevars wrote (.parquet, .csv or .dta)")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        from ..io.table import Results

        res = Results.read(path)
        return res.table.to_pandas(), res.provenance, ""
    df = pd.read_csv(path) if suffix == ".csv" else pd.read_stata(path) if suffix == ".dta" else None
    if df is None:
        raise ValueError(f"{path}: a report reads .parquet, .csv or .dta tables")
    sidecar = path.with_name(path.name + ".provenance.json")
    if sidecar.is_file():
        return df, json.loads(sidecar.read_text()), ""
    return df, {}, f"{path.name} carries no provenance (a {suffix} file without its .provenance.json sidecar)"


def _scalar_columns(df) -> tuple[list[str], list[str]]:
    """(variables to show, columns left out: vectors and lists)."""
    import pandas as pd

    shown, left = [], []
    for c in df.columns:
        if c in KEYS or c.startswith("_"):
            continue
        sample = df[c].dropna().head(5)
        if len(sample) and isinstance(sample.iloc[0], (list, tuple, np.ndarray, dict)):
            left.append(c)
        elif (
            pd.api.types.is_numeric_dtype(df[c])
            or pd.api.types.is_bool_dtype(df[c])
            or df[c].dtype == object
            or pd.api.types.is_string_dtype(df[c])
        ):
            shown.append(c)
    return shown, left


class Thumbnails:
    """160 px data URIs of sources, made once each; a source that cannot be read (moved, deleted) is None."""

    def __init__(self, side: int = 160, boxes=None):
        self.side, self.cache, self.boxes = side, {}, boxes or {}

    def __call__(self, source: str) -> str | None:
        if source not in self.cache:
            self.cache[source] = self._make(source)
        return self.cache[source]

    def _make(self, source: str) -> str | None:
        from PIL import Image

        from ..io.decode import DecodeError, decode
        from ..io.sources import read_source
        from ..io.thumbnails import jpeg_uri

        try:
            decoded = decode(read_source(source), source, max_side=self.side)
        except (DecodeError, OSError):
            return None
        img = Image.fromarray(decoded.rgb)
        objects = self.boxes.get(source)
        if objects:
            from ..draw import draw_objects

            scale = decoded.rgb.shape[1] / decoded.width
            img = draw_objects(decoded.rgb, [{**o, **{k: o[k] * scale for k in BOXES}} for o in objects])
        return jpeg_uri(img, quality=80)


def _histogram(values: np.ndarray, bins: int = 20) -> dict[str, Any]:
    counts, edges = np.histogram(values, bins=bins)
    return {"counts": counts.tolist(), "edges": [float(e) for e in edges]}


def _strips(df, column: str, k: int) -> dict[str, list[int]]:
    """Row positions at the lowest, middle and highest values of ``column`` (one row per source)."""
    values = df[column]
    ok = values.notna() & df["error"].isna() if "error" in df else values.notna()
    ranked = df.loc[ok, ["source"]].assign(_v=values[ok].astype(float)).drop_duplicates("source")
    ranked = ranked.sort_values("_v", kind="stable")
    n = len(ranked)
    mid = max(0, n // 2 - k // 2)
    pick = {"lowest": ranked.index[:k], "middle": ranked.index[mid : mid + k], "highest": ranked.index[max(0, n - k) :]}
    return {name: [int(i) for i in idx] for name, idx in pick.items()}


def _variable(df, column: str, definition: str, k: int, with_strips: bool) -> dict[str, Any]:
    import pandas as pd

    values = df[column]
    out: dict[str, Any] = {"name": column, "definition": definition, "missing": int(values.isna().sum())}
    if pd.api.types.is_bool_dtype(values) or (values.dropna().isin([True, False]).all() and values.dtype == object):
        counts = values.dropna().astype(bool).value_counts()
        out.update(kind="bool", bars=[[str(v), int(n)] for v, n in counts.items()])
        values = values.astype(float)
    elif pd.api.types.is_numeric_dtype(values):
        v = values.dropna().to_numpy(float)
        if len(v):
            out.update(
                kind="number", mean=float(v.mean()), min=float(v.min()), max=float(v.max()), histogram=_histogram(v)
            )
    else:
        counts = values.dropna().astype(str).value_counts()
        out.update(kind="text", distinct=int(len(counts)), bars=[[str(v), int(n)] for v, n in counts.head(10).items()])
        return out
    if with_strips and values.notna().any() and values.dropna().nunique() > 1:
        out["strips"] = _strips(df.assign(**{column: values}), column, k)
    return out


def _timelines(df, numeric: list[str], limit: int = 5) -> list[dict[str, Any]]:
    """Per video (sources with several sampled frames): up to three variables over time."""
    import pandas as pd

    if "time_s" not in df or "frame" not in df:
        return []
    frames = df[df["error"].isna()] if "error" in df else df
    per = frames.groupby("source")["time_s"].nunique()
    videos = per[per > 1].index[:limit]
    out = []
    for source in videos:
        rows = frames[frames["source"] == source].groupby("time_s")[numeric[:3]].mean(numeric_only=True)
        out.append(
            {
                "source": str(source),
                "time": [float(t) for t in rows.index],
                "series": {c: [None if pd.isna(v) else float(v) for v in rows[c]] for c in rows.columns},
            }
        )
    return out


def _boxes(df) -> dict[str, list[dict]]:
    """A long detect table's boxes per source, for drawing on the thumbnails."""
    cols = {
        c.split("_", 1)[1]: c
        for c in df.columns
        if c.count("_") >= 1 and c.split("_", 1)[1] in (*BOXES, "label", "score", "class_id")
    }
    if not all(b in cols for b in (*BOXES, "label", "score")) or "object" not in df:
        return {}
    rows = df[df["object"].notna()]
    out: dict[str, list[dict]] = {}
    for r in rows.itertuples(index=False):
        d = r._asdict()
        out.setdefault(d["source"], []).append(
            {k: d[c] for k, c in cols.items()} | {"class_id": d.get(cols.get("class_id"), 0) or 0}
        )
    return out


def write_report(
    table: str | os.PathLike,
    out: str | os.PathLike | None = None,
    *,
    max_rows: int = 2000,
    strip: int = 6,
    max_variables: int = 40,
    seed: int = 0,
) -> Path:
    """Write the report page of ``table`` to ``out`` (default: beside it, ``.html``); returns its path.

    Example:
        >>> write_report("vars.parquet")  # doctest: +SKIP
        PosixPath('vars.html')
    """
    df, prov, note = _read(table)
    out = Path(out) if out is not None else Path(table).with_suffix(".html")
    if "error" not in df:
        df["error"] = None
    df = df.reset_index(drop=True)
    shown, left = _scalar_columns(df)
    tasks = [t.get("name") for t in prov.get("tasks", [])] or sorted({c.split("_")[0] for c in shown})
    defs = definitions(shown, tasks)
    variables = [_variable(df, c, defs.get(c, ""), strip, i < max_variables) for i, c in enumerate(shown)]
    sample = df.index.to_numpy()
    if len(df) > max_rows:
        sample = np.sort(np.random.default_rng(seed).choice(len(df), max_rows, replace=False))
    strip_rows = {i for v in variables for rows in v.get("strips", {}).values() for i in rows}
    rows = sorted(set(sample.tolist()) | strip_rows)
    thumbs = Thumbnails(boxes=_boxes(df))
    images = {}
    for i in sorted(strip_rows):
        images[int(i)] = thumbs(str(df.at[i, "source"]))
    errors = df[df["error"].notna()]
    columns = [c for c in ("source", "frame", "time_s", "object", "error") if c in df] + shown
    view = df.loc[rows, columns].astype(object).where(df.loc[rows, columns].notna(), None)
    data = {
        "title": Path(table).name,
        "provenance": prov,
        "note": note,
        "counts": {"rows": int(len(df)), "sources": int(df["source"].nunique()), "errors": int(len(errors))},
        "errors": [[str(s), str(e)] for s, e in errors[["source", "error"]].head(200).itertuples(index=False)],
        "variables": variables,
        "left_out": left,
        "columns": columns,
        "rows": {int(i): [_plain(v) for v in r] for i, r in zip(view.index, view.itertuples(index=False))},
        "sampled": len(df) > max_rows,
        "max_rows": max_rows,
        "images": images,
        "timelines": _timelines(df, [v["name"] for v in variables if v.get("kind") == "number"]),
    }
    page = (Path(__file__).parent / "report.html").read_text()
    data = redact_all(data, skip=frozenset({"images"}))  # a URL's password or token is never on the page
    text = fill(page, data=script_json(data, default=_plain), title=escape_text(Path(table).name))
    return atomic_write(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _plain(v):
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    if isinstance(v, (bytes, np.ndarray, list, tuple, dict)):
        return str(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v
