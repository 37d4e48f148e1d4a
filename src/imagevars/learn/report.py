"""The report of a learned measure: report.json (every number), report.md (for a reader), figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..io.files import atomic_write, save_figure


def write(report, summary: dict[str, Any], record: dict[str, Any], sources: list[str]) -> None:
    """Write report.json, report.md and each target's figures into ``report.folder``: confusion matrix,
    learning curve, and for classes a reliability diagram and the most and least confident images."""
    folder = Path(report.folder)
    data = {"provenance": record, "targets": summary, "dropped": [{"source": s, "error": e} for s, e in report.dropped]}
    text = json.dumps(data, indent=2, default=_plain) + "\n"
    atomic_write(folder / "report.json", lambda tmp: Path(tmp).write_text(text))
    lines = [f"# {folder.name}: a measure learned by imagevars {record['version']}", ""]
    for target, r in report.results.items():
        lines += _target_lines(target, r)
        _figures(folder, target, r)
        if r["classes"]:
            _reliability(folder, target, r)
            _confident(folder, target, r, sources)
            curve = f"{target}_learning_curve.png, " if r["learning_curve"] else ""
            lines += [
                f"Figures: {target}_confusion.png, {curve}{target}_reliability.png "
                f"(predicted confidence against how often it was right), {target}_confident.png (the "
                "images it was surest and least sure of, on images it was not trained on).",
                "",
            ]
    if report.dropped:
        lines += [f"## Images left out ({len(report.dropped)}: they could not be read)", ""]
        lines += [f"- {e if e.startswith(s) else f'{s}: {e}'}" for s, e in report.dropped[:50]] + [""]
    md = "\n".join(lines)
    atomic_write(folder / "report.md", lambda tmp: Path(tmp).write_text(md))


def _target_lines(target: str, r: dict[str, Any]) -> list[str]:
    if r["folds"]:
        how = (
            f"{r['n']} labelled images, {r['folds']}-fold cross-validation"
            + (", grouped" if r["grouped"] else "")
            + "; mean over folds with 95% intervals."
        )
    else:
        how = (
            f"Trained on {r['n_train']} labelled images, tested once on the other {r['n_test']} "
            f"(split: {r['split']}); 95% bootstrap intervals over the test images."
        )
    lines = [
        f"## {target} ({'classes: ' + ', '.join(r['classes']) if r['classes'] else 'a number'})",
        "",
        how,
        "",
        "| metric | model | 95% interval | baseline |",
        "| --- | --- | --- | --- |",
    ]
    for m, v in r["metrics"].items():
        b = r["baseline"].get(m, {}).get("mean", float("nan"))
        lines.append(f"| {m} | {v['mean']:.3f} | {v['low']:.3f} - {v['high']:.3f} | {b:.3f} |")
    for name, metrics in r.get("compare", {}).items():
        lines.append(
            f"| *{name}* | "
            + "; ".join(f"{m} {v['mean']:.3f} ({v['low']:.3f} - {v['high']:.3f})" for m, v in metrics.items())
            + " | | |"
        )
    if r["learning_curve"]:
        lines += [
            "",
            "Learning curve (labels used for training -> "
            + ("R²" if r["kind"] == "number" else "accuracy")
            + "): "
            + ", ".join(f"{p['labels']} -> {list(p.values())[1]:.3f}" for p in r["learning_curve"]),
        ]
    if "training" in r:  # fine-tuned: how the epochs went
        t = r["training"]
        lines += [
            "",
            f"Fine-tuned on {r['n_train']} images for {t['epochs_run']} epoch(s); early stopping watched "
            f"{r['n_validation']} other images and kept epoch {t['best_epoch']} (lowest validation loss). "
            "The test images took no part in training or in choosing the epoch.",
        ]
    return lines + [""]


def _figures(folder: Path, target: str, r: dict[str, Any]) -> None:
    from .._extras import pyplot

    plt = pyplot()
    if r["classes"]:
        classes = r["classes"]
        pred = np.asarray(classes)[r["oof"].argmax(1)]
        m = np.array([[np.sum((r["y"] == a) & (pred == b)) for b in classes] for a in classes])
        fig, ax = plt.subplots(figsize=(1.2 + 0.6 * len(classes), 1 + 0.6 * len(classes)))
        ax.imshow(m, cmap="Blues")
        for i in range(len(classes)):
            for j in range(len(classes)):
                ax.text(j, i, int(m[i, j]), ha="center", va="center", fontsize=9)
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
        ax.set_yticks(range(len(classes)), classes)
        ax.set_xlabel("predicted (held out)"), ax.set_ylabel("label")
        fig.tight_layout()
        save_figure(fig, folder / f"{target}_confusion.png", dpi=100)
    curve = r["learning_curve"]
    if not curve:
        return
    fig, ax = plt.subplots(figsize=(4.5, 3))
    key = "r2" if r["kind"] == "number" else "accuracy"
    ax.plot([p["labels"] for p in curve], [p[key] for p in curve], "o-")
    ax.axhline(r["baseline"][key]["mean"], color="grey", ls="--", label="baseline")
    ax.set_xlabel("labels used for training"), ax.set_ylabel(key), ax.legend()
    fig.tight_layout()
    save_figure(fig, folder / f"{target}_learning_curve.png", dpi=100)


def _reliability(folder: Path, target: str, r: dict[str, Any], bins: int = 10) -> None:
    """Confidence of the predicted class against the share of those predictions that were right, in 10 bins."""
    from .._extras import pyplot

    p = r["oof"]
    confidence = p.max(1)
    right = np.asarray(r["classes"])[p.argmax(1)] == r["y"]
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges) - 1, 0, bins - 1)
    shown = [
        (confidence[which == b].mean(), right[which == b].mean(), (which == b).sum())
        for b in range(bins)
        if (which == b).any()
    ]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1)
    ax.scatter([c for c, _, _ in shown], [a for _, a, _ in shown], s=[20 + 4 * n for _, _, n in shown])
    ax.plot([c for c, _, _ in shown], [a for _, a, _ in shown])
    ax.set_xlim(0, 1), ax.set_ylim(0, 1)
    ax.set_xlabel("predicted probability of the predicted class"), ax.set_ylabel("share right (held out)")
    fig.tight_layout()
    save_figure(fig, folder / f"{target}_reliability.png", dpi=100)


def _confident(folder: Path, target: str, r: dict[str, Any], sources: list[str], k: int = 6) -> None:
    """Two rows of thumbnails: the ``k`` predictions it was surest of, and the ``k`` it was least sure of."""
    from .._extras import pyplot
    from ..io.decode import DecodeError, decode
    from ..io.sources import read_source

    p = r["oof"]
    order = np.argsort(-p.max(1), kind="stable")
    picks = [("surest", i) for i in order[:k]] + [("least sure", i) for i in order[::-1][:k]]
    plt = pyplot()
    fig, axes = plt.subplots(2, k, figsize=(1.8 * k, 4.4))
    for ax, (kind, i) in zip(axes.flat, picks):
        ax.axis("off")
        source = sources[r["rows"][i]]
        try:
            ax.imshow(decode(read_source(source), source, max_side=160).rgb)
        except DecodeError:
            continue
        guess = r["classes"][int(p[i].argmax())]
        ax.set_title(
            f"{kind}: {guess} {p[i].max():.2f}\nlabel {r['y'][i]}",
            fontsize=7,
            color="black" if guess == r["y"][i] else "red",
        )
    fig.tight_layout()
    save_figure(fig, folder / f"{target}_confident.png", dpi=100)


def _plain(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
