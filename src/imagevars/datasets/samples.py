"""Built-in sample data for the demo: scikit-image's photos, and a short video made from one of them."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np


def sample_photos() -> list[str]:
    """The photos that ship inside scikit-image's wheel (astronaut, chelsea, coffee, rocket ...)."""
    import skimage.data

    folder = os.path.dirname(skimage.data.__file__)
    return sorted(
        p for p in glob.glob(os.path.join(folder, "*")) if p.lower().endswith((".png", ".jpg", ".gif", ".tif"))
    )


def copy_sample_photos(folder: str | os.PathLike) -> list[Path]:
    """Copy the sample photos into ``folder`` (made if missing), as a study's photos would sit; the copies.

    Example:
        >>> [p.name for p in copy_sample_photos("photos")][:3]
        ['astronaut.png', 'brick.png', 'camera.png']
    """
    import shutil

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(p, folder / os.path.basename(p))) for p in sample_photos()]


def write_sample_video(path: str | os.PathLike, seconds: float = 4.0, fps: int = 10, size=(640, 400)) -> Path:
    """A short H.264 video: scikit-image's astronaut sliding across a grey background (one person, moving).

    Example:
        >>> write_sample_video("demo/astronaut_pan.mp4")  # doctest: +SKIP
    """
    from .._extras import require

    av = require("av", "the demo's sample video")
    import skimage.data
    from PIL import Image

    w, h = size
    person = np.asarray(Image.fromarray(skimage.data.astronaut()).resize((h, h)))
    n = int(seconds * fps)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt, s.options = w, h, "yuv420p", {"preset": "ultrafast", "crf": "23"}
        for i in range(n):
            img = np.full((h, w, 3), 128, np.uint8)
            x = int((w - h) * i / max(1, n - 1))
            img[:, x : x + h] = person
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path
