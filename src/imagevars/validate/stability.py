"""``imagevars validate stability``: do a table's variables survive changes to the pictures nobody would see?

A test-retest check for model-made variables. Images drawn from an imagevars table (seeded) are
measured again with the table's own tasks and parameters (from its provenance), three copies of
each in one batch: the image as the run decodes it (EXIF orientation, each task's working size),
the same **shifted right by one pixel** (the left column repeated), and the same **re-saved as a
quality-95 JPEG**. Photos go through worse (a crop, a re-upload); a variable that moves under
these two moves under those too, and a referee may ask how much.

For every variable and change: ``n`` (images with a value both times), ``unchanged`` (the share
whose value is the same: numbers to 6 significant digits, labels exactly) and, for counts and
numbers, ``r`` (the test-retest correlation), ``mean_abs_change`` and the variable's ``sd`` over the
images drawn, to read the change against (``r`` is left empty where fewer than 5 images differ
from the variable's most common value: the area of a class found on one image has no test-retest
correlation to speak of). Read counts and labels by ``unchanged``, numbers by ``r`` and by
``mean_abs_change`` against ``sd`` (a float is rarely the same to 6 digits after any change). An
embedding (``embed_vector``, ``clip_emb``) gets the median ``cosine`` between its two vectors, a
perceptual hash (``hash_phash``) the mean number of its 64 bits that changed as ``mean_abs_change``
(``imagevars duplicates`` calls images up to 6 bits apart near-copies).

The row ``re-run`` compares the table's stored values with the unchanged images measured now: the
same code and model give the same values (to float rounding: thread counts change the order of
sums), so anything else there says the table was made by another version, model or machine. Facts
about the file (bytes, format, width) are the original's in every copy: only the pixels change.

What moves, on 60 of OpenCV's sample pictures (``quality,detect``, seed 0): after a 1-px shift
``detect_n_objects`` is unchanged on 85% of the images and ``detect_top1_label`` on 77% (objects
scored near the threshold, or two near-tied classes), the dominant colour's hex code
``quality_color1_hex`` on 42% (mostly by one or two levels of one channel; by more than 10 on 5 of
the 60, where two colours of the palette swap places), while ``quality_brightness`` keeps r =
0.999999.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np

CHANGES = ("1-px shift", "JPEG re-save")
MIN_SPREAD = 5  # values off the most common one that a test-retest r needs


def shifted(rgb: np.ndarray) -> np.ndarray:
    """The image moved right by one pixel, its left column repeated (same size).

    Example:
        >>> shifted(np.arange(6, dtype=np.uint8).reshape(1, 3, 2))[0].tolist()
        [[0, 1], [0, 1], [2, 3]]
    """
    return np.concatenate([rgb[:, :1], rgb[:, :-1]], axis=1)


def resaved(rgb: np.ndarray, quality: int = 95) -> np.ndarray:
    """The image as a JPEG re-save at ``quality`` gives it back (Pillow's defaults otherwise).

    Example:
        >>> a = np.full((16, 16, 3), 100, np.uint8); a[4:12, 4:12] = 200
        >>> b = resaved(a)
        >>> b.shape == a.shape and 0 < int(np.abs(b.astype(int) - a).max()) < 40
        True
    """
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def stability(
    table: str | os.PathLike,
    *,
    n: int = 200,
    seed: int = 0,
    out: str | os.PathLike | None = None,
    progress: bool = True,
):
    """How each variable of ``table`` changes under a 1-px shift and a JPEG re-save, on ``n`` of its images drawn
    with ``seed``: a DataFrame of ``variable``, ``kind`` (count, number, label, hash or vector), ``change``, ``n``,
    ``unchanged``, ``r``, ``cosine``, ``mean_abs_change`` and ``sd``. With ``out``: ``out/stability.csv`` and
    ``provenance.json``. An image that cannot be read here is not measured: ``.attrs["errors"]`` has a line
    for each, ``.attrs["images"]`` counts the images measured.

    Example:
        >>> s = stability("vars.parquet", n=200, out="stability/")  # doctest: +SKIP
        >>> s[s["change"] == "1-px shift"].sort_values("unchanged").head()  # doctest: +SKIP
    """
    import pandas as pd

    from ..io import provenance
    from ..io.table import Results
    from ..tasks import get_task

    clock = provenance.begin()
    res = Results.read(table)
    specs = res.provenance.get("tasks") or []
    if not specs:
        raise ValueError(f"{table}: no tasks in its provenance; stability re-measures a table imagevars made")
    if any(s.get("params", {}).get("long") for s in specs):
        raise ValueError(f"{table}: a long table (a row per object); check the wide one: the same run without --long")
    stored = _drawn(res.table, n, seed, table)
    tasks = [get_task(s["name"], **s.get("params", {})) for s in specs]
    kinds = {f.name: _kind(f.type, t) for t in tasks for f in t.fields()}
    columns = [name for name, kind in kinds.items() if kind and name in stored.columns]
    now, errors = _measure(tasks, list(stored["source"]), progress)
    ok = [i for i in range(len(stored)) if i in now]
    if not ok:
        raise ValueError(
            f"{table}: none of the {len(stored)} images drawn could be read here ({errors[0]}); run "
            "from the folder the table was made in"
        )
    before = stored.iloc[ok].reset_index(drop=True)
    pairs = {"re-run": (before, _frame(now, ok, 0))}
    pairs.update({c: (pairs["re-run"][1], _frame(now, ok, k + 1)) for k, c in enumerate(CHANGES)})
    rows = [_compare(col, change, kinds[col], a[col], b[col]) for col in columns for change, (a, b) in pairs.items()]
    result = pd.DataFrame(
        rows, columns=["variable", "kind", "change", "n", "unchanged", "r", "cosine", "mean_abs_change", "sd"]
    )
    result.attrs.update(images=len(ok), errors=errors)
    if out is not None:
        _write(
            result,
            Path(out),
            clock,
            table,
            {"n": n, "seed": seed, "images": len(ok), "errors": len(errors), "changes": ["re-run", *CHANGES]},
            specs,
        )
    return result


def _drawn(arrow_table, n: int, seed: int, table) -> Any:
    """The rows of ``n`` still images measured without error, drawn with ``seed`` (all of them if fewer); only
    those rows are read whole, so a table of millions stays on disk."""
    from ..io.video import is_video

    if n < 1:
        raise ValueError(f"--n {n}: draw at least 1 image")
    keys = arrow_table.select(["source", "error"]).to_pandas()
    stills = np.flatnonzero(keys["error"].isna().to_numpy() & ~keys["source"].map(is_video).astype(bool).to_numpy())
    if not len(stills):
        raise ValueError(f"{table}: no still image measured without error (video frames are not re-measured)")
    drawn = np.sort(stills[np.random.default_rng(seed).permutation(len(stills))[:n]])
    return arrow_table.take(drawn).to_pandas()


def _measure(tasks, sources: list[str], progress: bool) -> tuple[dict[int, list[dict]], list[str]]:
    """{image: [row as decoded, row shifted, row re-saved]}, and one error line per image not measured."""
    from tqdm.auto import tqdm

    from ..engines.local import decode_sides
    from ..io.decode import Decoded, decode_each
    from ..io.sources import read_source

    sides, preprocessors, now, errors = decode_sides(tasks), [t.preprocessor() for t in tasks], {}, []
    for i, source in enumerate(tqdm(sources, desc="stability", unit="img", disable=not progress)):
        try:
            decoded = decode_each(read_source(source), source, sides)
            rows: list[dict] = [{}, {}, {}]
            for task, prepare, d in zip(tasks, preprocessors, decoded):
                copies = [d] + [
                    Decoded(f(d.rgb), d.width, d.height, d.nbytes, d.format, d.mode) for f in (shifted, resaved)
                ]
                values = task([prepare(c) for c in copies])
                for k in range(3):
                    rows[k].update({name: v[k] for name, v in values.items()})
            now[i] = rows
        except Exception as exc:  # one unreadable image is one error line, not a lost check
            errors.append(f"{source}: {type(exc).__name__}: {exc}".splitlines()[0])
    return now, errors


def _frame(now: dict[int, list[dict]], ok: list[int], k: int):
    import pandas as pd

    return pd.DataFrame([now[i][k] for i in ok])


def _kind(arrow_type, task=None) -> str | None:
    """ "count" (integers, booleans), "number" (floats), "label" (strings), "hash" (the ``hash`` task's
    perceptual hashes), "vector" (lists of floats: embeddings) or None (anything else: not compared)."""
    import pyarrow as pa

    from ..tasks.hash import HashTask

    if isinstance(task, HashTask):
        return "hash"
    if pa.types.is_integer(arrow_type) or pa.types.is_boolean(arrow_type):
        return "count"
    if pa.types.is_floating(arrow_type):
        return "number"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "label"
    lists = pa.types.is_list(arrow_type) or pa.types.is_fixed_size_list(arrow_type)
    return "vector" if lists and pa.types.is_floating(arrow_type.value_type) else None


def _compare(column: str, change: str, kind: str, a, b) -> list:
    """[variable, kind, change, n, unchanged, r, cosine, mean_abs_change, sd] of one variable's values before (a)
    and after (b)."""
    import pandas as pd

    both = a.notna().to_numpy() & b.notna().to_numpy()
    head = [column, kind, change, int(both.sum())]
    if not both.any():
        return head + [np.nan] * 5
    if kind == "label":
        x, y = a[both].astype(str).to_numpy(), b[both].astype(str).to_numpy()
        return head + [float(np.mean(x == y))] + [np.nan] * 4
    if kind == "hash":  # the mean number of the 64 bits that changed, as imagevars duplicates measures distance
        from ..duplicates import parse_hashes, popcount

        (x, _), (y, _) = parse_hashes(list(a[both])), parse_hashes(list(b[both]))
        return head + [float(np.mean(x == y)), np.nan, np.nan, float(popcount(x ^ y).mean()), np.nan]
    if kind == "vector":
        x, y = np.stack(a[both].to_numpy()).astype(float), np.stack(b[both].to_numpy()).astype(float)
        cos = (x * y).sum(1) / np.maximum(np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1), 1e-12)
        return head + [float(_same(x, y).all(1).mean()), np.nan, float(np.median(cos)), np.nan, np.nan]
    x = pd.to_numeric(a[both]).to_numpy(float)
    y = pd.to_numeric(b[both]).to_numpy(float)
    same = _same(x, y)
    r = float(np.corrcoef(x, y)[0, 1]) if _spread(x) and y.std() > 0 else np.nan
    return head + [
        float(same.mean()),
        r,
        np.nan,
        float(np.abs(x - y).mean()),
        float(x.std(ddof=1)) if len(x) > 1 else np.nan,
    ]


def _same(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Elementwise: the same number to 6 significant digits (what ``unchanged`` counts)."""
    return np.isclose(x, y, rtol=1e-6, atol=1e-9)


def _spread(x: np.ndarray, least: int = MIN_SPREAD) -> bool:
    """Whether at least ``least`` values differ from the most common one: a correlation needs that many to say
    anything (a class's area, zero on all images but one, would otherwise get an r of its one image)."""
    _, counts = np.unique(x, return_counts=True)
    return len(x) - counts.max() >= least


def _write(result, out: Path, clock, table, params: dict, specs: list) -> None:
    from ..io.files import atomic_write
    from .tables import write_provenance

    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "stability.csv", lambda tmp: result.to_csv(tmp, index=False))
    write_provenance(
        out, clock, "stability", params, {"table": table}, measured_with=specs, not_measured=result.attrs["errors"]
    )
