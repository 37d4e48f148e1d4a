"""Object identities across video frames: ByteTrack on the detect task's long-format rows.

Reference: Zhang et al. (2022), "ByteTrack: multi-object tracking by associating every
detection box", ECCV. Implementation: ``trackers`` (Roboflow, Apache-2.0), its
``ByteTrackTracker`` fed each sampled frame's detections with the frame's own timestamp, so
sparse or uneven sampling is handled in seconds rather than in frames.

One tracker per class within each video: a person never continues a dog's track. ``track_id``
numbers tracks within a video from 1 in order of confirmation. As in ByteTrack, a track is
confirmed at its second sighting: a detection seen once (often a false positive) stays
untracked, with ``track_id`` null. Tracking is weak when sampled frames are far apart relative
to how fast things move: sample densely (``--every 0.2s``) where identities matter. The rows
hold only detections at or above the detect task's threshold, so all of them enter ByteTrack's
first (high-score) association; lower the task's threshold to let weak boxes keep tracks alive.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._extras import require


def add_track_ids(table, *, threshold: float = 0.3, lost_s: float = 1.0, min_iou: float = 0.1):
    """The long-format detection table with a ``detect_track_id`` column (int64, null if untracked).

    Args:
        table: a pyarrow Table or :class:`~imagevars.Results` from ``run([DetectTask(long=True)], ..., every=...)``.
        threshold: confidence at which a detection may start a track.
        lost_s: seconds a track survives without a matching detection.
        min_iou: box overlap needed to continue a track.

    Example:
        >>> rows = imagevars.run([DetectTask(long=True)], "clip.mp4", every="0.2s")  # doctest: +SKIP
        >>> add_track_ids(rows).to_pandas()["detect_track_id"].nunique()  # doctest: +SKIP
    """
    import pyarrow as pa

    from ..io.table import Results

    results = table if isinstance(table, Results) else None
    t = results.table if results is not None else table
    need = {
        "source",
        "time_s",
        "object",
        "detect_class_id",
        "detect_score",
        "detect_x1",
        "detect_y1",
        "detect_x2",
        "detect_y2",
    }
    missing = need - set(t.column_names)
    if missing:
        raise ValueError(
            f"tracking needs the detect task's long format with video frames (run detect with long=True "
            f"and every=...); missing columns: {', '.join(sorted(missing))}"
        )
    df = t.select(sorted(need)).to_pandas()
    ids = np.full(len(df), -1, np.int64)
    for _, video in df.groupby("source", sort=False):
        tracked = _track_video(video, threshold, lost_s, min_iou)
        ids[tracked.index.to_numpy()] = tracked.to_numpy()
    column = pa.array(ids, pa.int64(), mask=ids < 0)
    out = t.append_column(pa.field("detect_track_id", pa.int64()), column)
    if results is None:
        return out
    provenance = dict(results.provenance)
    provenance["tracking"] = {
        "method": "ByteTrack",
        "library": f"trackers {_version()}",
        "threshold": threshold,
        "lost_s": lost_s,
        "min_iou": min_iou,
        "per_class": True,
    }
    return Results(out, provenance)


def _version() -> str:
    import importlib.metadata as md

    return md.version("trackers")


def _track_video(video, threshold: float, lost_s: float, min_iou: float):
    """Track ids (-1 where untracked) for one video's object rows, as a Series on their index."""
    require("trackers", "tracking objects across frames")
    import pandas as pd
    import supervision as sv
    from trackers import ByteTrackTracker

    video = video[video["object"].notna()].sort_values(["time_s", "object"])
    result = pd.Series(np.full(len(video), -1, np.int64), index=video.index)
    times = np.sort(video["time_s"].unique())
    step = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    trackers: dict[int, Any] = {}
    numbers: dict[tuple[int, int], int] = {}  # (class, the tracker's id) -> track_id in this video
    for time_s, frame in video.groupby("time_s", sort=True):
        for cls, rows in frame.groupby("detect_class_id", sort=False):
            if cls not in trackers:
                trackers[cls] = ByteTrackTracker(
                    lost_track_buffer=max(1, round(lost_s * 30)),
                    frame_rate=1.0 / max(step, 1e-3),
                    track_activation_threshold=threshold,
                    minimum_consecutive_frames=1,
                    minimum_iou_threshold=min_iou,
                    high_conf_det_threshold=threshold,
                )
            det = sv.Detections(
                xyxy=rows[["detect_x1", "detect_y1", "detect_x2", "detect_y2"]].to_numpy(np.float32),
                confidence=rows["detect_score"].to_numpy(np.float32),
                class_id=np.full(len(rows), int(cls)),
                data={"row": rows.index.to_numpy()},
            )
            tracked = trackers[cls].update(det, timestamp=float(time_s))
            for row, tid in zip(tracked.data["row"], tracked.tracker_id):
                if tid >= 0:
                    result[row] = numbers.setdefault((int(cls), int(tid)), len(numbers) + 1)
    return result
