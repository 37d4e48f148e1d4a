"""Deprecated: moved to `imagevars.io.decode`."""

from ._moved import alias

alias(__name__, "imagevars.io.decode")
