"""Explanations as a table: one row per image, so they can be summarised across thousands.

Columns (``explain_`` prefix), for the image's top (predicted) class c and runner-up r:

=========================  ==================================================================
label                      true class name, where known
correct                    whether the top class is the true class, where known
class, class_id            the top class c (what is explained)
prob                       probability of c
runner_up                  the second most probable class r
output                     f_c(x), the explained output (probability or logit, see provenance)
base                       E[f_c(background)], the SHAP baseline (null for Grad-CAM)
sum                        sum of the attributions to c over all pixels and channels
additivity_gap             |sum - (output - base)|: 0 up to rounding for DeepExplainer
margin                     f_c(x) - f_r(x), the model's margin over the runner-up
explained_margin           sum of attributions to c minus sum to r (needs targets="all")
ink_area                   share of pixels that are ink: intensity >= ``ink_threshold``
pos_share_ink              share of the positive attribution to c that lies on ink pixels
pos_share_background       the same on the other pixels (1 - pos_share_ink)
ink_lift                   pos_share_ink / ink_area: above 1, evidence concentrates on strokes
=========================  ==================================================================

"Ink" follows MNIST's convention: bright strokes on a dark ground, intensity the mean over
channels in [0, 1]. For dark-on-light images pass a threshold on the inverted image or read
``pos_share_background``. With SHAP methods the additivity identity makes
``explained_margin = margin - (base_c - base_r)``: the attributions account for the whole
margin beyond what the background already gives.
"""

from __future__ import annotations

import numpy as np

COLUMNS = (
    "label",
    "correct",
    "class",
    "class_id",
    "prob",
    "runner_up",
    "output",
    "base",
    "sum",
    "additivity_gap",
    "margin",
    "explained_margin",
    "ink_area",
    "pos_share_ink",
    "pos_share_background",
    "ink_lift",
)


def schema():
    import pyarrow as pa

    from ..io.table import key_schema

    types = {
        "label": pa.string(),
        "correct": pa.bool_(),
        "class": pa.string(),
        "class_id": pa.int64(),
        "runner_up": pa.string(),
    }
    return pa.schema(key_schema() + [pa.field(f"explain_{c}", types.get(c, pa.float64())) for c in COLUMNS])


def to_table(e, ink_threshold: float = 0.5):
    """The :class:`~imagevars.Results` of an :class:`~imagevars.explainers.Explanation`: a row per image.

    Example:
        >>> e.to_table().to_pandas()[["source", "explain_class", "explain_pos_share_ink"]]  # doctest: +SKIP
    """
    import pyarrow as pa

    from ..io.table import Results

    n = len(e)
    order = np.argsort(-e.probabilities, 1)
    top, second = order[:, 0], order[:, 1] if e.probabilities.shape[1] > 1 else order[:, 0]
    rows = np.arange(n)

    def summed(classes):  # (N,) total attribution to the given class per image, NaN if not explained
        out = np.full(n, np.nan)
        for i, c in enumerate(classes):
            slot = np.flatnonzero(e.targets[i] == c)
            if len(slot):
                out[i] = float(e.values[i, ..., slot[0]].astype(np.float64).sum())
        return out

    s_top, s_second = summed(top), summed(second)
    ink = e.pixels.mean(-1) >= ink_threshold  # (N, H, W)
    pos = np.clip(e.for_class(None).astype(np.float64), 0, None)
    pos_total = pos.sum((1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(pos_total > 0, (pos * ink).sum((1, 2)) / pos_total, np.nan)
        area = ink.mean((1, 2))
        lift = np.where(area > 0, share / area, np.nan)
    out = e.outputs.astype(np.float64)
    shap_based = e.base_values is not None
    base = e.base_values[top].astype(np.float64) if shap_based else np.full(n, np.nan)
    labels = np.asarray(e.labels, dtype=object)
    cols = {
        "source": list(e.sources),
        "frame": [0] * n,
        "time_s": [0.0] * n,
        "error": [None] * n,
        "explain_label": list(labels[e.y_true]) if e.y_true is not None else [None] * n,
        "explain_correct": list(e.y_true == top) if e.y_true is not None else [None] * n,
        "explain_class": list(labels[top]),
        "explain_class_id": top.tolist(),
        "explain_prob": e.probabilities[rows, top].astype(np.float64),
        "explain_runner_up": list(labels[second]),
        "explain_output": out[rows, top],
        "explain_base": base,
        "explain_sum": s_top if shap_based else np.full(n, np.nan),
        "explain_additivity_gap": np.abs(s_top - (out[rows, top] - base)) if shap_based else np.full(n, np.nan),
        "explain_margin": out[rows, top] - out[rows, second],
        "explain_explained_margin": s_top - s_second if shap_based else np.full(n, np.nan),
        "explain_ink_area": area,
        "explain_pos_share_ink": share,
        "explain_pos_share_background": 1.0 - share,
        "explain_ink_lift": lift,
    }
    sch = schema()
    table = pa.table({k: pa.array(_nulls(v), type=sch.field(k).type) for k, v in cols.items()}, schema=sch)
    provenance = dict(e.provenance)
    provenance["tasks"] = [
        dict(t, params={**t["params"], "ink_threshold": ink_threshold}) for t in provenance.get("tasks", [])
    ]
    return Results(table, provenance)


def error_table(errors: list[tuple[str, str]], provenance: dict):
    """Rows for images that could not be read: source and reason, every measure null."""
    import pyarrow as pa

    from ..io.table import Results

    sch = schema()
    cols = {f.name: [None] * len(errors) for f in sch}
    cols.update(
        source=[s for s, _ in errors], frame=[0] * len(errors), time_s=[0.0] * len(errors), error=[r for _, r in errors]
    )
    return Results(pa.table(cols, schema=sch), provenance)


def _nulls(values):
    """NaN floats become nulls, so "not defined" reads as missing in pandas, Stata and Parquet."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return [None if np.isnan(v) else float(v) for v in values]
    return values
