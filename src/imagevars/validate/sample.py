"""``imagevars validate sample``: which images people code, each with its inclusion probability.

Simple random (no strata) or stratified by a variable: its classes (true/false, labels) or, for a
number, ``k`` quantile bins (``--strata score:5``). ``allocation="equal"`` draws the same number
from every stratum (rare classes over-sampled: a gold sample with positives to learn from),
``"proportional"`` in proportion to their sizes. Every row records its stratum and its inclusion
probability n_h / N_h, which the corrected estimates weight by.

The draw is reproducible and grows without redrawing: each stratum's images are put in an order
fixed by the seed and the stratum, and a sample takes the first n_h of each; asking for more later
takes the next ones, so a sample of 300 is the first 200 plus 100 more.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ..io.files import atomic_write
from .tables import PROBABILITY, variable_table, write_provenance


def sample(
    table: str | os.PathLike,
    n: int,
    *,
    strata: str | None = None,
    allocation: str = "equal",
    seed: int = 0,
    out: str | os.PathLike | None = None,
    codebook: str | None = None,
):
    """The sample as a DataFrame (``source``, ``stratum``, ``inclusion_probability``, ``draw``); written to
    ``out/sample.csv`` when ``out`` is given (keeping a previous sample there as its first rows), with
    ``provenance.json`` (the table and its sha256, strata, allocation, seed, the codebook named).

    Example:
        >>> s = sample("vars.parquet", 300, strata="detect_person_any:10", seed=1, out="coding/")  # doctest: +SKIP
        >>> s.groupby("stratum")["inclusion_probability"].first()  # doctest: +SKIP
    """
    import pandas as pd

    from ..io import provenance

    clock = provenance.begin()
    if allocation not in ("equal", "proportional"):
        raise ValueError(f"--allocation {allocation}: use equal or proportional")
    variable, bins = _strata_spec(strata)
    if variable:
        df, _ = variable_table(table, variable, numbers=False)
        df["stratum"] = _stratum(df[variable], bins)
    else:
        from ..io.table import Results

        res = Results.read(table).table.select(["source", "error"]).to_pandas()
        df = res[res["error"].isna()][["source"]].reset_index(drop=True)
        df["stratum"] = "all"
    if not 0 < n <= len(df):
        raise ValueError(f"--n {n}: the table has {len(df)} images measured without error; ask for 1 to {len(df)}")
    counts = df.groupby("stratum").size()
    take = _allocate(counts, n, allocation)
    parts = []
    for stratum, size in take.items():
        members = np.sort(df.loc[df["stratum"] == stratum, "source"].to_numpy(str))
        order = np.random.default_rng([seed, _stable(str(stratum))]).permutation(len(members))
        chosen = members[order[:size]]
        parts.append(
            pd.DataFrame(
                {"source": chosen, "stratum": stratum, PROBABILITY: size / counts[stratum], "draw": np.arange(size)}
            )
        )
    drawn = pd.concat(parts, ignore_index=True).sort_values(["draw", "stratum"], kind="stable").reset_index(drop=True)
    drawn.attrs.update(seed=seed, strata=strata, allocation=allocation, population=int(len(df)))
    if out is not None:
        _write(drawn, Path(out))
        write_provenance(
            Path(out),
            clock,
            "validate sample",
            {"n": n, "strata": strata, "allocation": allocation, "seed": seed, "codebook": codebook},
            {"table": table},
            strata_sizes={str(k): int(v) for k, v in counts.items()},
            drawn={str(k): int(v) for k, v in take.items()},
        )
    return drawn


def _strata_spec(strata: str | None) -> tuple[str | None, int]:
    if not strata:
        return None, 0
    name, _, k = strata.partition(":")
    try:
        bins = int(k) if k else 5
    except ValueError:
        raise ValueError(f"--strata {strata}: write VARIABLE or VARIABLE:BINS (a number of quantile bins)") from None
    return name.strip(), bins


def _stratum(values, bins: int):
    """Classes as they are (a variable with at most 10 values); numbers cut into ``bins`` quantile bins."""
    import pandas as pd

    if values.nunique() <= 10 or not pd.api.types.is_numeric_dtype(values):
        return values.astype(str)
    cut = pd.qcut(values, bins, duplicates="drop")
    return cut.astype(str)


def _allocate(counts, n: int, allocation: str) -> dict:
    """Images per stratum: equal shares (a stratum with fewer gives its rest to the others) or proportional."""
    take = {s: 0 for s in counts.index}
    if allocation == "proportional":
        exact = counts / counts.sum() * n
        take = {s: int(np.floor(v)) for s, v in exact.items()}
        for s in (exact - np.floor(exact)).sort_values(ascending=False).index[: n - sum(take.values())]:
            take[s] += 1
        return take
    left = n
    while left > 0:
        open_ = [s for s in counts.index if take[s] < counts[s]]
        share = max(1, left // len(open_))
        for s in open_:
            add = min(share, counts[s] - take[s], left)
            take[s] += add
            left -= add
            if left == 0:
                break
    return take


def _stable(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def _write(drawn, out: Path) -> None:
    """sample.csv, keeping a previous sample in ``out`` as a part of this one (it must be one)."""
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    path = out / "sample.csv"
    if path.exists():
        before = pd.read_csv(path)
        gone = sorted(set(before["source"].astype(str)) - set(drawn["source"]))
        if gone:
            raise ValueError(
                f"{path} holds {len(before)} images, {len(gone)} of them not in this draw (first: "
                f"{gone[0]}): a sample only grows with the same table, strata, allocation and seed; "
                "write to a new folder for a different design"
            )
    atomic_write(path, lambda tmp: drawn.to_csv(tmp, index=False))
