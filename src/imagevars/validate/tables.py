"""Reading what validation works on: a model-made variable from an imagevars table, and human codes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

PROBABILITY = "inclusion_probability"


def write_provenance(
    out: Path, clock, name: str, params: dict, files: dict[str, str | os.PathLike | None], **extra
) -> Path:
    """``out/provenance.json``: the step, its parameters, and each input file with its sha256."""
    import json

    from ..io import provenance
    from ..io.files import atomic_write, sha256_file

    inputs = {k: {"path": str(v), "sha256": sha256_file(v)} for k, v in files.items() if v is not None}
    record = provenance.record(clock, [{"name": name, "params": params}], inputs=inputs, **extra)
    text = json.dumps(record, indent=2, default=str) + "\n"
    return atomic_write(Path(out) / "provenance.json", lambda tmp: Path(tmp).write_text(text))


def variable_table(table: str | os.PathLike, variable: str, numbers: bool = True):
    """(DataFrame of ``source`` and ``variable`` for the rows the model measured, rows with errors left out).

    Booleans become 0/1 (unless ``numbers`` is false); a missing column is named with the ones there are.
    """
    from ..io.table import Results

    res = Results.read(table)
    columns = res.table.column_names
    if variable not in columns:
        close = [c for c in columns if variable.split("_")[0] in c][:8]
        raise ValueError(f"{table} has no column {variable!r}" + (f"; close: {', '.join(close)}" if close else ""))
    df = res.table.select(["source", "error", variable]).to_pandas()
    ok = df["error"].isna() & df[variable].notna()
    df = df.loc[ok, ["source", variable]].reset_index(drop=True)
    if numbers and df[variable].dtype == bool:
        df[variable] = df[variable].astype(float)
    return df, int((~ok).sum())


def gold_table(gold: str | os.PathLike, truth: str, sources):
    """The human codes as ``source``, ``_truth`` (0/1 or numbers) and ``_pi`` (inclusion probability).

    Every gold source must be in the table; without an ``inclusion_probability`` column the gold
    rows are taken as a simple random sample (π = n / N).
    """
    import pandas as pd

    path = Path(gold)
    if not path.is_file():
        raise FileNotFoundError(f"--gold {path} does not exist")
    codes = pd.read_csv(path)
    for need in ("source", truth):
        if need not in codes.columns:
            raise ValueError(f"--gold {path} has no column {need!r}; it has {', '.join(map(str, codes.columns))}")
    codes = codes[codes[truth].notna()].copy()
    codes["source"] = codes["source"].astype(str)
    known = set(map(str, sources))
    missing = [s for s in codes["source"] if s not in known]
    if missing:
        raise ValueError(
            f"--gold {path}: {len(missing)} coded source(s) are not in the table (first: {missing[0]}); "
            "code images from the table's own sample"
        )
    if codes["source"].duplicated().any():
        raise ValueError(
            f"--gold {path}: {codes['source'].duplicated().sum()} source(s) coded twice; adjudicate "
            "them into one answer each (validate agree lists the disagreements)"
        )
    codes["_truth"] = _as_number(codes[truth], f"--gold {path}: {truth}")
    values = set(codes["_truth"].unique())
    if values <= {0.0, 1.0} and len(values) < 2:
        which = "positives" if values == {0.0} else "negatives"
        raise ValueError(
            f"--gold {path}: {truth} has no {which} among {len(codes)} coded images; code more "
            "(a stratified sample over-samples the rare class: validate sample --strata)"
        )
    n = len(codes)
    codes["_pi"] = codes[PROBABILITY].astype(float) if PROBABILITY in codes.columns else n / len(known)
    if not ((codes["_pi"] > 0) & (codes["_pi"] <= 1)).all():
        raise ValueError(f"--gold {path}: {PROBABILITY} must be in (0, 1]")
    return codes[["source", "_truth", "_pi"]]


def _as_number(values, what: str) -> np.ndarray:
    """True/false, yes/no and 0/1 as 0/1; numbers as they are."""
    import pandas as pd

    text = values.astype(str).str.strip().str.lower()
    words = {"true": 1.0, "yes": 1.0, "1": 1.0, "1.0": 1.0, "false": 0.0, "no": 0.0, "0": 0.0, "0.0": 0.0}
    if text.isin(list(words)).all():
        return text.map(words).to_numpy(float)
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any():
        raise ValueError(f"{what}: {values[numbers.isna()].iloc[0]!r} is neither a number nor yes/no")
    return numbers.to_numpy(float)
