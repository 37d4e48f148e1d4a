"""Drawing detections: boxes and labels on an image, or on every frame of a video.

An annotated video is every frame of the source with the latest sampled frame's boxes, labels
and track ids drawn, written as H.264 MP4 at the source's frame rate, without audio (PyAV).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ._extras import require
from .io.files import atomic_write

_PALETTE = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#bfef45",
    "#fabed4",
    "#469990",
    "#dcbeff",
    "#9a6324",
    "#800000",
    "#aaffc3",
    "#808000",
    "#000075",
)


def draw_objects(rgb: np.ndarray, objects: Sequence[dict[str, Any]], path: str | os.PathLike | None = None):
    """Boxes and "label score" captions on a copy of ``rgb``; saved to ``path`` if given. Returns the PIL image.

    ``objects`` are long-format rows (``label``, ``class_id``, ``score``, ``x1`` .. ``y2`` in
    pixels of ``rgb``), as :func:`imagevars.tasks.detect.objects` gives them.

    Example:
        >>> img = draw_objects(np.zeros((50, 80, 3), np.uint8),
        ...                    [{"label": "cup", "class_id": 41, "score": 0.9, "x1": 5, "y1": 5, "x2": 40, "y2": 30}])
        >>> img.size
        (80, 50)
    """
    from PIL import Image, ImageDraw, ImageFont

    img = Image.fromarray(np.asarray(rgb, np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(img)
    width = max(2, round(max(img.size) / 300))
    font = ImageFont.load_default(size=max(12, round(max(img.size) / 40)))
    for o in objects:
        color = _PALETTE[int(o.get("class_id", 0)) % len(_PALETTE)]
        box = (o["x1"], o["y1"], o["x2"], o["y2"])
        draw.rectangle(box, outline=color, width=width)
        text = f"{o['label']} {o['score']:.2f}" + (f" #{o['track_id']}" if o.get("track_id") is not None else "")
        l, t, r, b = draw.textbbox((box[0], box[1]), text, font=font)
        y = box[1] - (b - t) - 2 * width if box[1] - (b - t) - 2 * width >= 0 else box[1]
        draw.rectangle((box[0], y, box[0] + (r - l) + 2 * width, y + (b - t) + 2 * width), fill=color)
        draw.text((box[0] + width, y + width - (t - box[1])), text, fill="white", font=font)
    if path is not None:  # the temporary file keeps the extension, from which Pillow picks the format
        atomic_write(path, img.save, suffix=".tmp" + Path(path).suffix)
    return img


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
    sampled = rows[rows["error"].isna()] if "error" in rows.columns else rows
    times = np.array(sorted(sampled["time_s"].dropna().unique()))  # a frame with nothing clears the boxes
    shown = sampled[sampled["object"].notna() & (sampled["detect_score"] >= threshold)]
    by_time = {t: _objects(g) for t, g in shown.groupby("time_s")}
    return atomic_write(path, lambda tmp: _encode(av, source, tmp, times, by_time, crf), suffix=".tmp.mp4")


def _encode(av, source: str, tmp: str, times: np.ndarray, by_time: dict, crf: int) -> None:
    """Decode ``source`` frame by frame, draw the boxes shown at each frame's time, encode H.264 to ``tmp``."""
    from .io.video import upright_rgb

    with av.open(str(source)) as src, av.open(tmp, "w", format="mp4") as out:
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


def _objects(group) -> list[dict]:
    import pandas as pd

    cols = {
        "label": "detect_label",
        "class_id": "detect_class_id",
        "score": "detect_score",
        "x1": "detect_x1",
        "y1": "detect_y1",
        "x2": "detect_x2",
        "y2": "detect_y2",
        "track_id": "detect_track_id",
    }
    out = []
    for _, r in group.iterrows():
        o = {k: r[v] for k, v in cols.items() if v in group.columns}
        if "track_id" in o:
            o["track_id"] = None if pd.isna(o["track_id"]) else int(o["track_id"])  # null: untracked
        out.append(o)
    return out
