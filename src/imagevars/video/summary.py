"""What is on screen, when and for how long: per-second and per-video tables from detections.

Input: the long-format detection rows of sampled video frames (``run([DetectTask(long=True)],
..., every=...)``, optionally with ``detect_track_id`` from :func:`imagevars.video.track.add_track_ids`).
Each sampled frame stands for the time until the next one (the last for the sampling step,
or to the end of the video), which is how seconds on screen are counted.

Per second (``per_second``), one row per video and whole second s (frames with s <= time_s < s+1):

=================  ==========================================================================
second             s
n_frames           sampled frames in that second
count_{c}          the most class-c objects seen at once in any of those frames
=================  ==========================================================================

Per video (``per_video``), one row per video, with its ``video_*`` columns and:

=================  ==========================================================================
n_frames           sampled frames (rows with errors excluded)
seconds_{c}        seconds with class c on screen (sum of the sampled frames' intervals)
first_s_{c}        time of the first sampled frame showing class c (null if never)
last_s_{c}         time of the last such frame
max_{c}            the most class-c objects seen at once
tracks_{c}         distinct class-c tracks (null when the rows carry no track ids)
=================  ==========================================================================

Classes are the 80 COCO classes when every detected label is one of them (so tables from
different runs line up), otherwise the labels seen.
"""

from __future__ import annotations

import numpy as np

from ..models.labels import COCO_LABELS, column_name


def _frames(table):
    """(objects DataFrame with interval_s, frames DataFrame) from long-format rows."""
    df = table.to_pandas() if hasattr(table, "to_pandas") else table
    need = {"source", "time_s", "object", "detect_label"}
    if not need <= set(df.columns):
        raise ValueError("summaries need the detect task's long format on video frames (long=True, every=...)")
    df = df[df["error"].isna()] if "error" in df.columns else df
    frames = df.drop_duplicates(["source", "time_s"])[
        ["source", "time_s"] + [c for c in df.columns if c.startswith("video_")]
    ]
    frames = frames.sort_values(["source", "time_s"]).reset_index(drop=True)
    intervals = []
    for _, f in frames.groupby("source", sort=False):
        t = f["time_s"].to_numpy(float)
        step = float(np.median(np.diff(t))) if len(t) > 1 else None
        end = f["video_duration_s"].iloc[0] if "video_duration_s" in f and f["video_duration_s"].notna().any() else None
        if step is None:  # one sampled frame: it stands for the whole video
            last = end - t[-1] if end else 0.0
        else:
            last = step if end is None else min(step, end - t[-1])
        intervals.append(np.append(np.diff(t), max(float(last), 0.0)))
    frames["interval_s"] = np.concatenate(intervals) if intervals else []
    objects = df[df["object"].notna()]
    return objects, frames


def _labels(objects) -> list[str]:
    seen = set(objects["detect_label"].dropna())
    return list(COCO_LABELS) if seen <= set(COCO_LABELS) else sorted(seen)


def per_second(table):
    """Counts per class for each whole second of each video (see the module docstring).

    Example:
        >>> per_second(rows).to_pandas()[["source", "second", "count_person"]]  # doctest: +SKIP
    """
    import pandas as pd

    objects, frames = _frames(table)
    labels = _labels(objects)
    counts = objects.groupby(["source", "time_s", "detect_label"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=labels, fill_value=0)
    per_frame = frames[["source", "time_s"]].merge(counts.reset_index(), on=["source", "time_s"], how="left")
    per_frame[labels] = per_frame[labels].fillna(0).astype("int64")
    per_frame["second"] = np.floor(per_frame["time_s"]).astype("int64")
    grouped = per_frame.groupby(["source", "second"], sort=False)
    out = grouped[labels].max()
    out.insert(0, "n_frames", grouped.size())
    out = out.rename(columns={c: f"count_{column_name(c)}" for c in labels}).reset_index()
    return _results(pd.DataFrame(out), table, "per_second")


def per_video(table):
    """One row per video: seconds on screen, first and last appearance, most at once, tracks per class.

    Example:
        >>> per_video(rows).to_pandas()[["source", "seconds_person", "tracks_person"]]  # doctest: +SKIP
    """
    import pandas as pd

    objects, frames = _frames(table)
    labels = _labels(objects)
    tracked = "detect_track_id" in objects.columns
    by_video = {source: o for source, o in objects.groupby("source", sort=False)}  # one pass over the rows
    rows = []
    for source, f in frames.groupby("source", sort=False):
        row = {"source": source, **{c: f[c].iloc[0] for c in f.columns if c.startswith("video_")}, "n_frames": len(f)}
        o = by_video.get(source, objects.iloc[:0])
        by_label = {label: c for label, c in o.groupby("detect_label", sort=False)}
        interval = dict(zip(f["time_s"], f["interval_s"]))
        for label in labels:
            name = column_name(label)
            c = by_label.get(label, o.iloc[:0])
            times = np.sort(c["time_s"].unique())
            row[f"seconds_{name}"] = float(sum(interval.get(t, 0.0) for t in times))
            row[f"first_s_{name}"] = float(times[0]) if len(times) else None
            row[f"last_s_{name}"] = float(times[-1]) if len(times) else None
            row[f"max_{name}"] = int(c.groupby("time_s").size().max()) if len(c) else 0
            row[f"tracks_{name}"] = int(c["detect_track_id"].dropna().nunique()) if tracked else None
        rows.append(row)
    return _results(pd.DataFrame(rows), table, "per_video")


def _results(df, table, kind: str):
    import pyarrow as pa

    from ..io.table import Results

    provenance = dict(getattr(table, "provenance", {}) or {})
    provenance["summary"] = kind
    return Results(pa.Table.from_pandas(df, preserve_index=False), provenance)


def plot_counts(table, path, top: int = 6):
    """PNG: objects per class over time for each video (the ``top`` classes by seconds on screen)."""
    from pathlib import Path

    from .._extras import pyplot
    from ..io.files import save_figure

    plt = pyplot()
    objects, frames = _frames(table)
    videos = list(frames["source"].unique())
    fig, axes = plt.subplots(len(videos), 1, figsize=(9, 2.6 * max(1, len(videos))), squeeze=False)
    for ax, source in zip(axes[:, 0], videos):
        f = frames[frames["source"] == source]
        o = objects[objects["source"] == source]
        counts = o.groupby(["time_s", "detect_label"]).size().unstack(fill_value=0).reindex(f["time_s"], fill_value=0)
        order = counts.gt(0).sum().sort_values(ascending=False).index[:top]
        for label in order:
            ax.step(counts.index, counts[label], where="post", label=label)
        ax.set_title(Path(source).name, fontsize=10)
        ax.set_xlabel("time (s)"), ax.set_ylabel("objects")
        if len(order):
            ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)
