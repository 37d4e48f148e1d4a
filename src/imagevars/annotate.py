"""Deprecated: moved to `imagevars.draw`."""

from ._moved import alias

alias(__name__, "imagevars.draw")
