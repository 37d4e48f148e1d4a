"""Deprecated: moved to `imagevars._memory`."""

from ._moved import alias

alias(__name__, "imagevars._memory")
