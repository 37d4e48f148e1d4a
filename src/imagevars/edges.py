"""Deprecated: moved to `imagevars.tasks.edges`."""

from ._moved import alias

alias(__name__, "imagevars.tasks.edges")
