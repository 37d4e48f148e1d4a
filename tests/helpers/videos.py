"""Test videos made with PyAV: each frame shows its own number as a row of black/white squares."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

BITS = 12


def frame_image(i: int, w: int, h: int) -> np.ndarray:
    img = np.full((h, w, 3), 90, np.uint8)
    cell = w // BITS
    for b in range(BITS):
        if (i >> b) & 1:
            img[: h // 2, b * cell : (b + 1) * cell] = 255
        else:
            img[: h // 2, b * cell : (b + 1) * cell] = 0
    return img


def read_number(rgb: np.ndarray) -> int:
    h, w = rgb.shape[:2]
    cell = w // BITS
    row = rgb[h // 4].mean(-1) if rgb.ndim == 3 else rgb[h // 4]
    return sum(1 << b for b in range(BITS) if row[b * cell + cell // 2] > 128)


def make_video(
    path,
    seconds: float = 4.0,
    fps: int = 25,
    size=(320, 192),
    gop: int = 50,
    times: list[float] | None = None,
    codec: str = "libx264",
    options: dict | None = None,
) -> list[float]:
    """Write an H.264 MP4; ``times`` gives each frame's time (variable frame rate). Returns the frame times."""
    import av

    w, h = size
    times = times if times is not None else [i / fps for i in range(int(seconds * fps))]
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.codec_context.gop_size = gop
        s.time_base = s.codec_context.time_base = Fraction(1, 1000)  # exact times, variable rates
        s.options = options or ({"preset": "ultrafast", "crf": "18"} if codec == "libx264" else {})
        if not times:
            c.start_encoding()  # a header and no frames: a zero-length video
        for i, t in enumerate(times):
            frame = av.VideoFrame.from_ndarray(frame_image(i, w, h), format="rgb24")
            frame.pts, frame.time_base = int(round(t * 1000)), Fraction(1, 1000)
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return times


def set_rotation(path, degrees: int) -> None:
    """Rewrite the MP4 track header's display matrix so players turn the video ``degrees`` clockwise."""
    import struct

    data = bytearray(open(path, "rb").read())
    i = data.find(b"tkhd")
    assert i > 0 and data[i + 4] == 0, "expects a version-0 tkhd box"
    one, minus = 0x00010000, 0xFFFF0000
    a, b, c, d = {90: (0, one, minus, 0), 180: (minus, 0, 0, minus), 270: (0, minus, one, 0)}[degrees]
    struct.pack_into(">9I", data, i + 4 + 40, a, b, 0, c, d, 0, 0, 0, 0x40000000)
    open(path, "wb").write(bytes(data))


def make_pan_video(path, seconds: float = 4.0, fps: int = 10, size=(640, 400)) -> None:
    """scikit-image's astronaut sliding across a grey background: one person, moving steadily (the demo's video)."""
    from imagevars.datasets.samples import write_sample_video

    write_sample_video(path, seconds, fps, size)
