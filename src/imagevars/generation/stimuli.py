"""Deprecated: moved to `imagevars.generation.session`."""

from .._moved import alias

alias(__name__, "imagevars.generation.session")
