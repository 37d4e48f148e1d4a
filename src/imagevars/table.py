"""Deprecated: moved to `imagevars.io.table`."""

from ._moved import alias

alias(__name__, "imagevars.io.table")
