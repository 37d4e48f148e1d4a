"""Deprecated: moved to `imagevars.pipeline.sink`."""

from ._moved import alias

alias(__name__, "imagevars.pipeline.sink")
