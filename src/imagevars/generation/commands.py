"""Deprecated: moved to `imagevars.cli.generate`."""

from .._moved import alias

alias(__name__, "imagevars.cli.generate")
