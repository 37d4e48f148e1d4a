"""Deprecated: moved to `imagevars.video.track`."""

from ._moved import alias

alias(__name__, "imagevars.video.track")
