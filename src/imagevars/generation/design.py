"""An experimental design for generated stimuli: prompts x seeds x settings, from words or a file.

A design file is a CSV (or Parquet) with a ``prompt`` column and, optionally, ``negative_prompt``,
``seed``, ``steps``, ``guidance``, ``width`` and ``height``; an empty cell takes the value given on
the command line or the model's default. Every other column (a condition label, a stimulus id)
passes through to the table untouched. Each row is drawn ``n`` times, with seeds ``seed``,
``seed + 1``, ... ``seed + n - 1``: the same seeds for every prompt, so that conditions differ by
their words and not by their starting noise.

Example CSV::

    condition,prompt,negative_prompt
    warm,"a smiling barista handing over a coffee, photo",blurry
    cold,"a barista handing over a coffee, photo",blurry
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..models.diffusion import Request

SETTINGS = tuple(f.name for f in fields(Request))  # prompt, seed, negative_prompt, steps, guidance, width, height
_INTS = {"seed", "steps", "width", "height"}


def read_design(path: str | Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Rows of a design file as (settings, pass-through columns); empty cells are left out.

    Raises a ValueError naming the file, row and column of the first value that is not usable.

    Example:
        >>> read_design("stimuli.csv")[0]  # doctest: +SKIP
        ({'prompt': 'a smiling barista ...', 'negative_prompt': 'blurry'}, {'condition': 'warm'})
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"design file {path} not found: give a CSV with a 'prompt' column")
    if path.suffix.lower() == ".parquet":
        df = pd.read_parquet(path).astype(object).where(lambda d: d.notna(), "")
    else:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "prompt" not in df.columns:
        raise ValueError(f"{path} has no 'prompt' column (it has: {', '.join(map(str, df.columns))})")
    if not len(df):
        raise ValueError(f"{path} has no rows: add one prompt per row")
    rows = []
    for i, rec in enumerate(df.to_dict("records"), start=2):  # row 1 is the header
        settings, extra = {}, {}
        for col, value in rec.items():
            if col not in SETTINGS:
                extra[str(col)] = value
            elif str(value).strip() != "" or col == "prompt":
                settings[col] = _parse(col, value, f"{path} row {i}")
        rows.append((settings, extra))
    return rows


def _parse(col: str, value: Any, where: str) -> Any:
    text = str(value).strip()
    if col in ("prompt", "negative_prompt"):
        return str(value)
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{where}: {col} {text!r} is not a number") from None
    if col in _INTS:
        if not number.is_integer():
            raise ValueError(f"{where}: {col} {text!r} is not a whole number")
        return int(number)
    return number


def expand(
    rows: Iterable[tuple[dict[str, Any], dict[str, Any]]], n: int = 1, seed: int = 0, **settings: Any
) -> list[tuple[Request, dict[str, Any]]]:
    """One Request per image: each row ``n`` times with seeds from its own ``seed`` (or ``seed``) upward.

    ``settings`` (steps, guidance, ...) fill what a row leaves empty; None means the model's default.

    Example:
        >>> [r.seed for r, _ in expand([({"prompt": "a cat"}, {})], n=3, seed=7)]
        [7, 8, 9]
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n (images per prompt) must be a whole number of at least 1, got {n!r}")
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise TypeError(f"unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(SETTINGS[2:])}")
    out = []
    for row, extra in rows:
        merged = {**{k: v for k, v in settings.items() if v is not None}, **row}
        first = merged.pop("seed", seed)
        if isinstance(first, int) and not isinstance(first, bool):
            seeds = [first + i for i in range(n)]
        else:
            seeds = [first] * n  # not a number: Generator.check names it
        out.extend((Request(seed=s, **merged), extra) for s in seeds)
    return out
