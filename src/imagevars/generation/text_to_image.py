"""Deprecated: moved to `imagevars.models.diffusion`."""

from .._moved import alias

alias(__name__, "imagevars.models.diffusion")
