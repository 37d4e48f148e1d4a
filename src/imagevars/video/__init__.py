"""Objects over time: tracks across sampled frames (:mod:`.track`), per-video and per-second summaries (:mod:`.summary`).

Reading frames is :mod:`imagevars.io.video`; the names it had here before 0.2 (``frames``,
``probe``, ``Sampling`` ...) still work from this package for one release, with a DeprecationWarning.
"""

from __future__ import annotations

from typing import Any

_MOVED = ("VIDEO_EXTENSIONS", "Sampling", "VideoInfo", "duration_s", "frames", "is_video", "probe", "upright_rgb")


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import warnings

        from ..io import video

        warnings.warn(f"imagevars.video.{name} moved to imagevars.io.video.{name} (the old path goes in imagevars 0.3)",
                      DeprecationWarning, stacklevel=2)
        return getattr(video, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
