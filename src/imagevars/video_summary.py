"""Deprecated: moved to `imagevars.video.summary`."""

from ._moved import alias

alias(__name__, "imagevars.video.summary")
