"""Deprecated: moved to `imagevars.io.sources`."""

from ._moved import alias

alias(__name__, "imagevars.io.sources")
