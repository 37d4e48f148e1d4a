"""Frames from video files, by time or by count, with exact timestamps (PyAV).

Sampling, written as the command line takes it:

- ``"1s"``, ``"0.5s"``: one frame per interval: for each target time 0, T, 2T ... the first
  frame shown at or after it. ``time_s`` is that frame's own presentation time, so variable
  frame rates are handled exactly.
- ``"10f"``: every 10th frame in decoding order (``"1f"``: every frame).
- ``"key"``: the keyframes only (the fastest way through a long video).

``frame`` is the frame's number in the stream: counted while decoding for ``"Nf"``; for time
and keyframe sampling, where frames in between are skipped unconverted or jumped over by
seeking, it is ``round(time_s * fps)`` with the stream's average rate (exact at a constant
frame rate, the nearest frame otherwise). Frames come out upright: the container's rotation
(display matrix) is applied.

Speed: frames between samples are decoded but not converted to RGB; frames that no other frame
refers to are not even decoded while the next target is far; and a target more than ``seek_s``
seconds ahead is reached by seeking to the keyframe before it.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .._extras import require
from .decode import DecodeError

VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".wmv", ".flv"})


def is_video(path: str) -> bool:
    return os.path.splitext(str(path))[1].lower() in VIDEO_EXTENSIONS


@dataclass(frozen=True)
class Sampling:
    """How frames are chosen: ``kind`` "seconds", "frames" or "key", with its ``step``."""

    kind: str
    step: float = 1.0

    @classmethod
    def parse(cls, text: str | Sampling) -> Sampling:
        """``"1s"``, ``"0.5s"``, ``"10f"`` or ``"key"``.

        Example:
            >>> Sampling.parse("0.5s"), Sampling.parse("10f").step
            (Sampling(kind='seconds', step=0.5), 10.0)
        """
        if isinstance(text, Sampling):
            return text
        t = str(text).strip().lower()
        if t in ("key", "keyframes"):
            return cls("key", 0.0)
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*(s|sec|f|frames?)", t)
        if m is None or float(m.group(1)) <= 0 or (m.group(2).startswith("f") and not float(m.group(1)).is_integer()):
            raise ValueError(
                f"cannot read the sampling {text!r}: use seconds ('1s', '0.5s'), every n-th frame ('10f') "
                "or 'key' for keyframes"
            )
        return cls("seconds" if m.group(2).startswith("s") else "frames", float(m.group(1)))

    def __str__(self) -> str:
        return "key" if self.kind == "key" else f"{self.step:g}{'s' if self.kind == 'seconds' else 'f'}"


@dataclass(frozen=True)
class VideoInfo:
    duration_s: float
    fps: float  # average frame rate
    width: int  # as displayed (after rotation)
    height: int
    codec: str
    rotation: int  # degrees the frames are turned to display upright
    frames: int  # as the container says (0 if unknown)


def _open(path: str):
    av = require("av", "reading video")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise DecodeError(f"{path}: not a video PyAV can open ({type(exc).__name__}: {exc})") from None
    if not container.streams.video:
        container.close()
        raise DecodeError(f"{path}: has no video stream")
    return container


def _rotation(frame) -> int:
    """Clockwise degrees to turn a decoded frame upright, from its display matrix (0, 90, 180, 270)."""
    angle = getattr(frame, "rotation", 0) or 0  # PyAV: the matrix's counter-clockwise rotation
    return int(round(-float(angle) / 90.0)) * 90 % 360


def _duration(container, stream) -> float:
    """Seconds of video as the header says: the stream's duration, else the container's, else 0."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return (container.duration or 0) / 1_000_000


def duration_s(path: str) -> float:
    """The video's duration from its header alone (nothing decoded): for planning work.

    Example:
        >>> duration_s("clip.mp4")  # doctest: +SKIP
        12.0
    """
    with _open(path) as c:
        return _duration(c, c.streams.video[0])


def probe(path: str) -> VideoInfo:
    """Duration, frame rate, displayed size, codec and rotation, from the container's header.

    Example:
        >>> probe("clip.mp4").fps  # doctest: +SKIP
        25.0
    """
    with _open(path) as c:
        s = c.streams.video[0]
        fps = float(s.average_rate or s.guessed_rate or 0) or 0.0
        duration = _duration(c, s)
        try:  # the display matrix travels with the frames: look at the first one
            rot = _rotation(next(c.decode(s)))
        except (StopIteration, Exception):  # noqa: BLE001 (no decodable frame: frames() will say so)
            rot = 0
        w, h = s.codec_context.width, s.codec_context.height
        if rot in (90, 270):
            w, h = h, w
        return VideoInfo(duration, fps, int(w), int(h), s.codec_context.name, rot, int(s.frames or 0))


def upright_rgb(frame) -> np.ndarray:
    """A decoded PyAV frame as an upright RGB uint8 (H, W, 3) array: the display matrix applied."""
    rgb = frame.to_ndarray(format="rgb24")
    k = {90: -1, 180: 2, 270: 1}.get(_rotation(frame), 0)  # np.rot90 turns counter-clockwise
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


def _skip(packet, tb: float, t0: float, target: float | None) -> str:
    """What the decoder may leave out of ``packet``: a frame no other frame refers to, shown before
    the next wanted time (it can never be wanted), else nothing.

    Decided per packet from the packet's own presentation time, not from the last frame out: a
    decoder with B-frames hands frames out several packets late and reordered, so a margin
    counted in frames out dropped the wanted frame itself (3-4 of 40 samples at 25 fps).
    """
    if target is None or packet.pts is None:
        return "DEFAULT"
    return "NONREF" if packet.pts * tb - t0 + 1e-9 < target else "DEFAULT"


def frames(
    path: str, every: str | Sampling = "1s", start_s: float = 0.0, end_s: float | None = None, seek_s: float = 4.0
) -> Iterator[tuple[int, float, np.ndarray]]:
    """(frame, time_s, RGB uint8 (H, W, 3)) for the sampled frames shown in [start_s, end_s).

    Raises :class:`~imagevars.io.decode.DecodeError` naming the file when it cannot be opened;
    an error mid-way raises after the frames decoded before it were yielded.

    Example:
        >>> [(f, round(t, 2)) for f, t, _ in frames("clip.mp4", "1s")][:2]  # doctest: +SKIP
        [(0, 0.0), (25, 1.0)]
    """
    av = require("av", "reading video")
    sampling = Sampling.parse(every)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO" if os.environ.get("IMAGEVARS_VIDEO_THREADS") else "SLICE"
        ctx = stream.codec_context
        fps = float(stream.average_rate or stream.guessed_rate or 25)
        tb = float(stream.time_base)
        t0 = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        if sampling.kind == "key":
            ctx.skip_frame = "NONKEY"
        # targets on one grid (0, T, 2T ...) whatever the start, so segments of a video line up
        target = math.ceil(start_s / sampling.step - 1e-9) * sampling.step if sampling.kind == "seconds" else None
        if start_s > 0:
            container.seek(int((t0 + start_s) / tb), stream=stream, backward=True, any_frame=False)
        count, last = -1, -1.0
        try:
            for packet in container.demux(stream):
                if sampling.kind == "seconds":
                    ctx.skip_frame = _skip(packet, tb, t0, target)
                for frame in packet.decode():
                    count += 1
                    if frame.pts is None:
                        continue
                    t = last = frame.pts * tb - t0
                    if end_s is not None and t >= end_s:
                        return
                    if t < start_s - 1e-9:
                        continue
                    if sampling.kind == "frames":
                        if count % int(sampling.step):
                            continue
                        yield count, t, upright_rgb(frame)
                        continue
                    if sampling.kind == "key":
                        yield int(round(t * fps)), t, upright_rgb(frame)
                        continue
                    if t + 1e-9 < target:  # between samples: decoded, never converted
                        continue
                    yield int(round(t * fps)), t, upright_rgb(frame)
                    while target <= t + 1e-9:  # the next target after this frame
                        target += sampling.step
                    if end_s is not None and target >= end_s:
                        return
                    if target - t > seek_s:  # far ahead: jump to the keyframe before it
                        container.seek(int((t0 + target) / tb), stream=stream, backward=True, any_frame=False)
                        break  # this packet's remaining frames are behind us
        except av.FFmpegError as exc:
            raise DecodeError(
                f"{path}: video decoding failed after {count + 1} frames ({type(exc).__name__}: {exc})"
            ) from None
        # the stream ran out: early, if its header promised more (a cut download, say)
        expected = _duration(container, stream)
        if end_s is None and sampling.kind != "key" and expected and last < expected - 1.0 - 2.0 / fps:
            raise DecodeError(
                f"{path}: the video stops at {max(last, 0):.2f} s but its header says "
                f"{expected:.2f} s: truncated? (frames before the cut are kept)"
            )
    finally:
        container.close()
