"""Deprecated: moved to `imagevars.train.mnist_cards`."""

from .._moved import alias

alias(__name__, "imagevars.train.mnist_cards")
