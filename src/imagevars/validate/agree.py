"""``imagevars validate agree``: how far coders agree with each other, and the model with their gold.

Between coders, per question, on the items all of them coded: Cohen's kappa (two coders; the mean
over pairs for more), Krippendorff's alpha (the ``krippendorff`` package; nominal, and ordinal for
a question the codebook marks ordinal), each with a 95% bootstrap interval over items, and the
items they disagree on (to adjudicate). Against the model, on the items the coders agree on (or
an adjudicated file): accuracy, per-class precision, recall and F1, and for a score AUC, a
calibration curve and two thresholds (the one that maximises F1, the one that matches the gold
prevalence), all weighted by the inverse inclusion probabilities, so a stratified sample speaks
for the whole table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..io.files import atomic_write
from .tables import PROBABILITY, _as_number, variable_table, write_provenance

META = {"source", "coder", "stratum", PROBABILITY, "flagged", "skipped"}


def read_codes(paths: Sequence[str | os.PathLike]):
    """The coders' files as one long DataFrame (source, coder, answers ...); each file must have a source column."""
    import pandas as pd

    frames = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist: pass the CSV files the coding page exported")
        df = pd.read_csv(path, dtype=str)
        if "source" not in df.columns:
            raise ValueError(f"{path} has no source column; is it a coding page's export?")
        df["coder"] = df["coder"].fillna(path.stem) if "coder" in df.columns else path.stem
        if "skipped" in df.columns:
            df = df[df["skipped"].fillna("0").astype(str) != "1"]
        frames.append(df)
    codes = pd.concat(frames, ignore_index=True)
    if codes["coder"].nunique() < len(paths):
        raise ValueError("two files have the same coder name; each coder's export must carry their own name")
    return codes


def _same_items(codes, question: str) -> list[str]:
    """The items every coder answered ``question`` for; coders who coded different items are refused."""
    answered = codes[codes[question].notna()]
    per = answered.groupby("coder")["source"].apply(set)
    common = set.intersection(*per)
    extra = {c: len(s - common) for c, s in per.items() if s - common}
    if extra:
        say = ", ".join(f"{c} {n} more" for c, n in extra.items())
        raise ValueError(
            f"{question}: the coders coded different items ({len(common)} in common; {say}); "
            "agreement is computed on the same items: have each coder finish the sample"
        )
    return sorted(common)


def kappa_alpha(matrix: np.ndarray, order: list[str], level: str) -> dict[str, float]:
    """Cohen's kappa (mean over coder pairs, on the items both coded) and Krippendorff's alpha of a
    (coders, items) label matrix; a label not in ``order`` ("" or None) is an item that coder left out.

    Example:
        >>> m = np.array([["y", "y", "n", "n"], ["y", "n", "n", "n"]])
        >>> {k: round(v, 3) for k, v in kappa_alpha(m, ["n", "y"], "nominal").items()}
        {'kappa': 0.5, 'alpha': 0.533}
    """
    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    index = {label: float(i) for i, label in enumerate(order)}
    codes = np.vectorize(lambda v: index.get(v, np.nan), otypes=[float])(matrix)  # "" or None: not coded
    pairs = [(a, b) for a in range(len(matrix)) for b in range(a + 1, len(matrix))]
    both = [(a, b, ~np.isnan(codes[a]) & ~np.isnan(codes[b])) for a, b in pairs]
    kappa = float(np.mean([cohen_kappa_score(matrix[a][ok], matrix[b][ok], labels=order) for a, b, ok in both]))
    if len(np.unique(codes[~np.isnan(codes)])) < 2:
        return {"kappa": kappa, "alpha": 1.0}
    alpha = float(krippendorff.alpha(reliability_data=codes, level_of_measurement=level))
    return {"kappa": kappa, "alpha": alpha}


def between_coders(
    codes, question: str, order: list[str] | None = None, level: str = "nominal", boot: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Agreement on one question with 95% bootstrap intervals over items, and the disagreements."""
    items = _same_items(codes, question)
    wide = codes[codes["source"].isin(items)].pivot(index="source", columns="coder", values=question).loc[items]
    matrix = wide.to_numpy(str).T
    order = order or sorted(np.unique(matrix))
    outside = sorted(set(map(str, np.unique(matrix))) - set(order))
    if outside:
        raise ValueError(
            f"{question}: answer(s) {', '.join(map(repr, outside))} are not in the codebook ({', '.join(order)})"
        )
    point = kappa_alpha(matrix, order, level)
    rng = np.random.default_rng(seed)
    draws = [kappa_alpha(matrix[:, rng.integers(0, len(items), len(items))], order, level) for _ in range(boot)]
    out = {
        "items": len(items),
        "coders": list(wide.columns),
        "level": level,
        "percent_agreement": float(np.mean((matrix == matrix[0]).all(0))),
    }
    for k, v in point.items():
        values = [d[k] for d in draws if np.isfinite(d[k])]
        out[k] = {"estimate": v, "low": float(np.percentile(values, 2.5)), "high": float(np.percentile(values, 97.5))}
    disagree = ~(matrix == matrix[0]).all(0)
    out["disagreements"] = wide[disagree].reset_index().to_dict("records")
    return out


def against_model(gold, predicted, weights) -> dict[str, Any]:
    """The model's values against the gold (0/1 truth), weighted: accuracy, per-class P/R/F1, AUC and
    thresholds for a score (any value other than 0/1)."""
    from sklearn import metrics

    y, s, w = np.asarray(gold, float), np.asarray(predicted, float), np.asarray(weights, float)
    score = not set(np.unique(s)) <= {0.0, 1.0}
    out: dict[str, Any] = {
        "n": int(len(y)),
        "weighted_prevalence": float(np.average(y, weights=w)),
        "model_prevalence": float(np.average(s >= 0.5 if score else s, weights=w)),
    }
    if score:
        out["auc"] = float(metrics.roc_auc_score(y, s, sample_weight=w))
        cuts = np.unique(s)
        f1 = [metrics.f1_score(y, s >= c, sample_weight=w, zero_division=0) for c in cuts]
        out["threshold_best_f1"] = {"threshold": float(cuts[int(np.argmax(f1))]), "f1": float(np.max(f1))}
        order = np.argsort(-s)
        share = np.cumsum(w[order]) / w.sum()
        k = int(np.searchsorted(share, out["weighted_prevalence"]))
        out["threshold_matching_prevalence"] = float(s[order][min(k, len(s) - 1)])
        s_label = s >= out["threshold_best_f1"]["threshold"]
        if s.min() >= 0 and s.max() <= 1:  # a probability: how often the gold says yes at each level of it
            which = np.clip((s * 10).astype(int), 0, 9)
            out["calibration"] = [
                {
                    "bin": f"{b / 10:.1f}-{(b + 1) / 10:.1f}",
                    "mean_score": float(np.average(s[k], weights=w[k])),
                    "gold_rate": float(np.average(y[k], weights=w[k])),
                    "n": int(k.sum()),
                }
                for b in range(10)
                if (k := which == b).any()
            ]
    else:
        s_label = s >= 0.5
    out["accuracy"] = float(metrics.accuracy_score(y, s_label, sample_weight=w))
    p, r, f, _ = metrics.precision_recall_fscore_support(y, s_label, labels=[1, 0], sample_weight=w, zero_division=0)
    out["per_class"] = {
        name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i])}
        for i, name in enumerate(("positive", "negative"))
    }
    return out


def agree(
    coder_files: Sequence[str | os.PathLike],
    *,
    table: str | os.PathLike | None = None,
    variable: str | None = None,
    truth: str | None = None,
    codebook=None,
    out: str | os.PathLike | None = None,
    boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Agreement between coders on every question, and of the model's ``variable`` with the ``truth`` question.

    Example:
        >>> r = agree(["coding/coder_A.csv", "coding/coder_B.csv"], table="vars.parquet",
        ...           variable="detect_person_any", truth="person_present")  # doctest: +SKIP
        >>> r["coders"]["person_present"]["alpha"]  # doctest: +SKIP
    """
    from ..io import provenance

    clock = provenance.begin()
    codes = read_codes(coder_files)
    questions = [c for c in codes.columns if c not in META]
    result: dict[str, Any] = {"coders": {}, "files": [str(p) for p in coder_files]}
    if codes["coder"].nunique() >= 2:
        for q in questions:
            spec = codebook.question(q) if codebook is not None else None
            order = [a for a, _ in spec.answers] if spec else None
            result["coders"][q] = between_coders(codes, q, order, spec.level if spec else "nominal", boot, seed)
    if table is not None:
        if not (variable and truth):
            raise ValueError("--against needs --variable (the table's column) and --truth (the coded question)")
        result["model"] = _model_vs_gold(codes, table, variable, truth)
    if out is not None:
        _write(result, Path(out))
        files = {f"coder_{i + 1}": p for i, p in enumerate(coder_files)}
        write_provenance(
            Path(out),
            clock,
            "validate agree",
            {
                "variable": variable,
                "truth": truth,
                "boot": boot,
                "seed": seed,
                "codebook": codebook.source if codebook else None,
            },
            {**files, "table": table},
        )
    return result


def _model_vs_gold(codes, table, variable: str, truth: str) -> dict[str, Any]:
    if truth not in codes.columns:
        raise ValueError(
            f"--truth {truth}: the coders' files have no such question "
            f"({', '.join(c for c in codes.columns if c not in META)})"
        )
    answered = codes[codes[truth].notna()]
    agreed = answered.groupby("source").filter(lambda g: g[truth].nunique() == 1).drop_duplicates("source")
    df, _ = variable_table(table, variable)
    merged = agreed.merge(df, on="source", how="left")
    missing = merged[variable].isna()
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} coded source(s) are not in {table} (first: "
            f"{merged.loc[missing, 'source'].iloc[0]}); code images from the table's own sample"
        )
    y = _as_number(merged[truth], f"--truth {truth}")
    if len(set(y)) < 2:
        raise ValueError(
            f"--truth {truth}: the gold has no {'positives' if y.max() == 0 else 'negatives'}; code more "
            "(a stratified sample over-samples the rare class)"
        )
    w = 1.0 / merged[PROBABILITY].astype(float) if PROBABILITY in merged.columns else np.ones(len(merged))
    out = against_model(y, merged[variable].astype(float), w)
    out["items_coders_disagree_on"] = int(answered["source"].nunique() - len(agreed))
    return out


def _write(result: dict[str, Any], out: Path) -> None:
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, default=str) + "\n"
    atomic_write(out / "agreement.json", lambda tmp: Path(tmp).write_text(text))
    rows = [{"question": q, **d} for q, r in result["coders"].items() for d in r["disagreements"]]
    atomic_write(out / "disagreements.csv", lambda tmp: pd.DataFrame(rows).to_csv(tmp, index=False))
    lines = [
        "# Agreement",
        "",
        "| question | items | kappa (95% interval) | alpha (95% interval) | agree |",
        "| --- | --- | --- | --- | --- |",
    ]
    for q, r in result["coders"].items():
        k, a = r["kappa"], r["alpha"]
        lines.append(
            f"| {q} | {r['items']} | {k['estimate']:.3f} ({k['low']:.3f} - {k['high']:.3f}) | "
            f"{a['estimate']:.3f} ({a['low']:.3f} - {a['high']:.3f}, {r['level']}) | "
            f"{r['percent_agreement']:.1%} |"
        )
    if "model" in result:
        m = result["model"]
        lines += [
            "",
            f"Model against the gold ({m['n']} items the coders agree on, weighted by inverse inclusion "
            f"probabilities): accuracy {m['accuracy']:.3f}"
            + (f", AUC {m['auc']:.3f}" if "auc" in m else "")
            + f"; prevalence {m['weighted_prevalence']:.3f} (gold) vs {m['model_prevalence']:.3f} (model).",
        ]
    atomic_write(out / "agreement.md", lambda tmp: Path(tmp).write_text("\n".join(lines) + "\n"))
    if "calibration" in result.get("model", {}):
        _calibration_figure(result["model"]["calibration"], out / "calibration.png")


def _calibration_figure(curve: list[dict], path: Path) -> None:
    from .._extras import pyplot
    from ..io.files import save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1)
    ax.plot([c["mean_score"] for c in curve], [c["gold_rate"] for c in curve], "o-")
    ax.set_xlim(0, 1), ax.set_ylim(0, 1)
    ax.set_xlabel("model's score"), ax.set_ylabel("share the coders said yes (weighted)")
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
