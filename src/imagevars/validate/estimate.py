"""``imagevars validate estimate``: a mean or a regression on a model-made variable, corrected for its errors.

Reads the table the variable came from, a gold file of human codes for some of its rows (with
each row's inclusion probability, as ``validate sample`` writes them), and optionally other data
merged by source; writes ``estimates.csv`` (naive, gold-only, DSL and PPI++ with 95% intervals,
every term), ``estimates.png`` (the term of interest, one line per estimator) and
``provenance.json``. The statistics: :mod:`imagevars.validate.corrected`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..io import provenance
from ..io.files import atomic_write, save_figure
from .corrected import Design, estimates
from .tables import gold_table, variable_table, write_provenance


def estimate(
    table: str | os.PathLike,
    gold: str | os.PathLike,
    predicted: str,
    truth: str,
    *,
    formula: str | None = None,
    data: str | os.PathLike | None = None,
    model: str = "ols",
    out: str | os.PathLike | None = None,
):
    """Naive, gold-only, DSL and PPI++ estimates of a mean (no ``formula``) or of OLS / logit coefficients.

    Args:
        table: the imagevars table (Parquet) with the model's variable ``predicted`` for every image.
        gold: CSV of human codes: ``source``, the ``truth`` column, and ``inclusion_probability``
            (``validate sample`` writes it; without it the sample is taken as simple random).
        formula: ``"sales ~ person_present + price"`` in the names of ``truth`` and ``data``'s columns;
            the variable may be the outcome or a regressor. Without it: the mean of ``truth``.
        data: a CSV or Parquet with ``source`` and the formula's other columns.
        model: ``"ols"`` or ``"logit"``.

    Example:
        >>> est = estimate("vars.parquet", "coding/adjudicated.csv", "detect_person_any", "person_present",
        ...                formula="sales ~ person_present + price", data="listings.csv")  # doctest: +SKIP
        >>> est[est.term == "person_present"][["estimator", "estimate", "low", "high"]]  # doctest: +SKIP
    """
    import pandas as pd

    if model not in ("ols", "logit"):
        raise ValueError(f"--model {model}: use ols or logit")
    clock = provenance.begin()
    df, dropped = variable_table(table, predicted)
    codes = gold_table(gold, truth, df["source"])
    if data is not None:
        df = _merge_data(df, data)
    df = df.merge(codes, on="source", how="left")
    design, terms, term = _design(df, predicted, truth, formula, model)
    result = estimates(design, term)
    rows = [
        {
            "estimator": name,
            "term": t,
            "estimate": r["estimate"][j],
            "se": r["se"][j],
            "low": r["low"][j],
            "high": r["high"][j],
            "lambda": r["lambda"],
            "n_gold": int(design.gold.sum()),
            "n": len(df),
        }
        for name, r in result.items()
        for j, t in enumerate(terms)
    ]
    table_out = pd.DataFrame(rows)
    unequal = np.ptp(design.pi[design.gold]) > 1e-12
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write(out / "estimates.csv", lambda tmp: table_out.to_csv(tmp, index=False))
        _figure(table_out[table_out["term"] == terms[term]], terms[term], out / "estimates.png")
        write_provenance(
            out,
            clock,
            "validate estimate",
            {"predicted": predicted, "truth": truth, "formula": formula, "model": model},
            {"table": table, "gold": gold, "data": data},
            n=len(df),
            n_gold=int(design.gold.sum()),
            dropped_rows=dropped,
            unequal_probabilities=bool(unequal),
        )
    table_out.attrs["note"] = (
        "the gold sample has unequal inclusion probabilities: report DSL (PPI++'s tuned "
        "interval is too narrow for such samples)"
        if unequal
        else ""
    )
    return table_out


def _merge_data(df, data):
    import pandas as pd

    path = Path(data)
    if not path.is_file():
        raise FileNotFoundError(f"--data {path} does not exist")
    extra = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    if "source" not in extra.columns:
        raise ValueError(f"--data {path} needs a source column to join on (the table's image paths)")
    extra["source"] = extra["source"].astype(str)
    clash = [c for c in extra.columns if c != "source" and c in df.columns]
    merged = df.merge(extra.drop(columns=clash), on="source", how="inner")
    if merged.empty:
        raise ValueError(f"--data {path}: none of its sources is in the table; they must be written as the table's are")
    return merged


def _design(df, predicted: str, truth: str, formula: str | None, model: str):
    """(Design, term names, index of the term of interest) with the model's and the true values of the variable."""
    import patsy

    formula = formula or f"{truth} ~ 1"
    lhs = formula.split("~")[0].strip()
    if truth not in formula:
        raise ValueError(f"--formula {formula!r} does not name {truth}, the variable whose errors are corrected")
    gold = df["_truth"].notna().to_numpy()
    hat = df.assign(**{truth: df[predicted].astype(float)})
    true = df.assign(**{truth: df["_truth"].where(gold, df[predicted]).astype(float)})
    try:
        y_hat, X_hat = patsy.dmatrices(formula, hat, return_type="dataframe", NA_action="raise")
    except patsy.PatsyError as exc:
        raise ValueError(
            f"--formula {formula!r}: {str(exc).splitlines()[0]} (columns: "
            f"{', '.join(c for c in df.columns if not c.startswith('_'))})"
        ) from None
    y_true, X_true = patsy.build_design_matrices([y_hat.design_info, X_hat.design_info], true, return_type="dataframe")
    if model == "logit" and not set(np.unique(y_hat.to_numpy())) <= {0.0, 1.0}:
        raise ValueError(f"--model logit: the outcome {lhs} must be 0/1 (or true/false)")
    terms = list(X_hat.columns)
    term = next((i for i, t in enumerate(terms) if truth in t), 0)  # the variable's coefficient (or the mean)
    design = Design(
        y_hat.to_numpy()[:, 0],
        X_hat.to_numpy(),
        y_true.to_numpy()[:, 0],
        X_true.to_numpy(),
        gold,
        df["_pi"].to_numpy(float),
        model,
    )
    return design, terms, term


def _figure(rows, term: str, path: Path) -> None:
    from .._extras import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 2.6))
    order = ["naive", "gold-only", "DSL", "PPI++"]
    rows = rows.set_index("estimator").loc[order]
    ax.errorbar(
        rows["estimate"],
        range(len(order)),
        xerr=[rows["estimate"] - rows["low"], rows["high"] - rows["estimate"]],
        fmt="o",
        capsize=3,
    )
    ax.set_yticks(range(len(order)), order)
    ax.invert_yaxis()
    ax.set_xlabel(f"{term}: estimate and 95% interval")
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
