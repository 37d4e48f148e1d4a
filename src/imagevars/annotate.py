"""Annotated video: every frame of the source with the latest sampled frame's boxes, labels and
track ids drawn, written as H.264 MP4 at the source's frame rate, without audio (PyAV)."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from ._extras import require


def draw_video(source: str, rows, path: str | os.PathLike, threshold: float = 0.0, crf: int = 23) -> Path:
    """Write ``source`` with its detections drawn to ``path`` (.mp4, H.264, yuv420p).

    Args:
        source: the video file.
        rows: long-format detection rows of this video (a DataFrame with ``time_s``, ``object``,
            ``detect_label``, ``detect_score``, box and optionally ``detect_track_id``).
        threshold: draw only detections scoring at least this.
        crf: x264 quality (lower is better and larger).

    Each sampled frame's boxes stay on screen until the next sampled frame.

    Example:
        >>> draw_video("clip.mp4", rows.to_pandas(), "clip_boxes.mp4")  # doctest: +SKIP
    """
    av = require("av", "writing annotated video")
    from .draw import draw_objects
    from .video import upright_rgb

    sampled = rows[rows["error"].isna()] if "error" in rows.columns else rows
    times = np.array(sorted(sampled["time_s"].dropna().unique()))  # a frame with nothing clears the boxes
    shown = sampled[sampled["object"].notna() & (sampled["detect_score"] >= threshold)]
    by_time = {t: _objects(g) for t, g in shown.groupby("time_s")}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.mp4")
    with av.open(str(source)) as src, av.open(str(tmp), "w") as out:
        stream = src.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        t0 = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        enc = None
        for frame in src.decode(stream):
            rgb = upright_rgb(frame)
            t = (frame.pts * float(stream.time_base) - t0) if frame.pts is not None else 0.0
            k = np.searchsorted(times, t + 1e-9, side="right") - 1
            objs = by_time.get(times[k], []) if k >= 0 else []
            img = np.asarray(draw_objects(rgb, objs)) if objs else rgb
            if enc is None:
                enc = out.add_stream("libx264", rate=rate)
                enc.width, enc.height = img.shape[1] // 2 * 2, img.shape[0] // 2 * 2
                enc.pix_fmt, enc.options = "yuv420p", {"crf": str(crf), "preset": "veryfast"}
            img = img[: enc.height, : enc.width]
            for packet in enc.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
                out.mux(packet)
        if enc is not None:
            for packet in enc.encode():
                out.mux(packet)
    os.replace(tmp, path)
    return path


def _objects(group) -> list[dict]:
    import pandas as pd

    cols = {"label": "detect_label", "class_id": "detect_class_id", "score": "detect_score", "x1": "detect_x1",
            "y1": "detect_y1", "x2": "detect_x2", "y2": "detect_y2", "track_id": "detect_track_id"}
    out = []
    for _, r in group.iterrows():
        o = {k: r[v] for k, v in cols.items() if v in group.columns}
        if "track_id" in o:
            o["track_id"] = None if pd.isna(o["track_id"]) else int(o["track_id"])  # null: untracked
        out.append(o)
    return out
