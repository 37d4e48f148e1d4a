"""Deprecated: moved to `imagevars.testing`."""

from .._moved import alias

alias(__name__, "imagevars.testing")
