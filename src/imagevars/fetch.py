"""Deprecated: moved to `imagevars.io.http`."""

from ._moved import alias

alias(__name__, "imagevars.io.http")
