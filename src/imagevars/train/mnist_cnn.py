"""The MNIST networks: the lecture's convnet and the fast recipe's, and how a card builds either.

Their cards and registered names (``mnist-cnn``, ``mnist-fast-cnn``) are in
:mod:`imagevars.train.mnist_cards`, which stays importable without PyTorch.

The lecture's network, in PyTorch, laid out as Keras prints it.

References:
    - F. Chollet, "Simple MNIST convnet", keras.io/examples/vision/mnist_convnet (2015-2020):
      Conv2D(32, 3x3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3x3, relu) -> MaxPooling2D(2)
      -> Flatten -> Dropout(0.5) -> Dense(10, softmax): 34,826 parameters on 28x28x1 input.
    - Glorot & Bengio (2010) uniform initialisation with zero biases, as Keras does.

The module returns logits; :class:`~imagevars.train.Classifier` applies the softmax (the loss
uses log-softmax, which is the same function computed stably). Two forward paths compute the
same function:

- ``forward_reference``: the textbook order, layer by layer (used by ONNX export and tests).
- ``forward``: the same arithmetic reordered for speed on CPU. Max-pooling and ReLU commute
  (ReLU is monotonic), so pooling first runs the ReLU on a quarter of the values. Only the
  rows and columns that reach the output are computed: floor-mode pooling drops conv2's last
  row and column (11x11 -> 10x10 for MNIST), so conv2 needs 12x12 of pool1, so conv1 needs
  24x24 of its 26x26, so the input is cut to 26x26 first. Every intermediate tensor is then
  contiguous (no slice copies, no zero-filled gradients of slices): a training step is about
  a fifth faster. Dropout draws its mask from random bits rather than one float per unit.

The fast recipe's network: small and fast, >= 99% test accuracy in the least CPU time.

References:
    - T. Oikarinen, "Training a NN to 99% accuracy on MNIST in 0.76 seconds",
      github.com/tuomaso/train_mnist_fast (2021): narrow convolutions, max-pool before ReLU,
      no dropout, a wide hidden layer, Adam with high learning rate and low betas, one-cycle.
    - Smith & Topin (2017), "Super-convergence", arXiv:1708.07120.

Conv(24, 5x5) -> MaxPool(2) -> ReLU -> Conv(32, 3x3) -> MaxPool(2) -> ReLU -> Flatten
-> Dense(256, relu) -> Dense(10): 215,194 parameters, about half the multiply-adds of the
lecture's network per image (2.5 M against 4.9 M).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..models.card import ModelCard
from .classifier import Classifier


@dataclass
class LectureCNNConfig:
    in_channels: int = 1  # 1 for greyscale, 3 for RGB
    input_size: int = 28  # side of the square input, pixels
    num_classes: int = 10
    dropout: float = 0.5  # Keras Dropout rate: fraction of units zeroed in training

    def feature_sizes(self) -> tuple[int, int, int, int]:
        """Sides after conv1, pool1, conv2, pool2 (valid convolutions, floor pooling)."""
        c1 = self.input_size - 2
        p1 = c1 // 2
        c2 = p1 - 2
        p2 = c2 // 2
        if p2 < 1:
            raise ValueError(f"input_size {self.input_size} is too small for this network; use at least 10")
        return c1, p1, c2, p2


class BitDropout(nn.Module):
    """Inverted dropout whose mask comes from random bits (8 units per random byte at p=0.5).

    Statistically the same as ``nn.Dropout``: each unit is kept with probability 1 - p and
    kept units are scaled by 1 / (1 - p). The generator is seeded from PyTorch's, so
    ``torch.manual_seed`` makes training reproducible.
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {p}")
        self.p = p
        self._rng: np.random.Generator | None = None

    def mask(self, shape: tuple[int, ...]) -> torch.Tensor:
        """A float mask of 0 and 1/(1-p) values."""
        if self._rng is None:
            self._rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,)).item()))
        n = int(np.prod(shape))
        if self.p == 0.5:
            bits = np.unpackbits(np.frombuffer(self._rng.bytes((n + 7) // 8), np.uint8), count=n)
            keep = torch.from_numpy(bits)
        else:
            keep = torch.from_numpy(self._rng.random(n, dtype=np.float32) >= self.p)
        return keep.view(shape).to(torch.float32).mul_(1.0 / (1.0 - self.p))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        return x * self.mask(tuple(x.shape))


class LectureCNN(nn.Module):
    """Conv(32) -> Pool -> Conv(64) -> Pool -> Flatten -> Dropout -> Dense, logits out."""

    def __init__(self, config: LectureCNNConfig | None = None):
        super().__init__()
        self.config = config = config or LectureCNNConfig()
        _, _, _, p2 = config.feature_sizes()
        # Attribute names follow Keras's default layer names, so summaries read the same.
        self.conv2d = nn.Conv2d(config.in_channels, 32, 3)
        self.max_pooling2d = nn.MaxPool2d(2)
        self.conv2d_1 = nn.Conv2d(32, 64, 3)
        self.max_pooling2d_1 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.dropout = BitDropout(config.dropout)
        self.dense = nn.Linear(64 * p2 * p2, config.num_classes)
        for layer in (self.conv2d, self.conv2d_1, self.dense):
            nn.init.xavier_uniform_(layer.weight)  # Keras's glorot_uniform
            nn.init.zeros_(layer.bias)

    def keras_layers(self) -> list[tuple[str, str, nn.Module, str | None]]:
        """(name, Keras type, module, activation) in order: for summaries and ONNX export."""
        return [
            ("conv2d", "Conv2D", self.conv2d, "relu"),
            ("max_pooling2d", "MaxPooling2D", self.max_pooling2d, None),
            ("conv2d_1", "Conv2D", self.conv2d_1, "relu"),
            ("max_pooling2d_1", "MaxPooling2D", self.max_pooling2d_1, None),
            ("flatten", "Flatten", self.flatten, None),
            ("dropout", "Dropout", self.dropout, None),
            ("dense", "Dense", self.dense, "softmax"),
        ]

    def forward_reference(self, x: torch.Tensor) -> torch.Tensor:
        """The textbook order. x: (B, C, H, W) float -> logits (B, num_classes)."""
        x = self.max_pooling2d(F.relu(self.conv2d(x)))  # (B, 32, 13, 13)
        x = self.max_pooling2d_1(F.relu(self.conv2d_1(x)))  # (B, 64, 5, 5)
        return self.dense(self.dropout(self.flatten(x)))  # (B, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same function as :meth:`forward_reference`, reordered for speed (module docstring)."""
        p2 = self.config.feature_sizes()[3]
        pool1 = 2 * p2 + 2  # rows/cols of pool1 that conv2's surviving outputs read (12 for MNIST)
        side = 2 * pool1 + 2  # rows/cols of the input that those read (26 of 28)
        x = self.conv2d(x[:, :, :side, :side])  # (B, 32, 24, 24) instead of 26x26
        x = F.relu(F.max_pool2d(x, 2))  # (B, 32, 12, 12) instead of 13x13
        x = F.relu(F.max_pool2d(self.conv2d_1(x), 2))  # (B, 64, 10, 10) -> (B, 64, 5, 5)
        return self.dense(self.dropout(self.flatten(x)))


@dataclass
class FastCNNConfig:
    in_channels: int = 1
    input_size: int = 28
    num_classes: int = 10
    width1: int = 24  # channels of the first convolution (5x5)
    width2: int = 32  # channels of the second convolution (3x3)
    hidden: int = 256  # units of the hidden dense layer

    def feature_side(self) -> int:
        side = ((self.input_size - 4) // 2 - 2) // 2
        if side < 1:
            raise ValueError(f"input_size {self.input_size} is too small for this network; use at least 12")
        return side


class FastCNN(nn.Module):
    def __init__(self, config: FastCNNConfig | None = None):
        super().__init__()
        self.config = c = config or FastCNNConfig()
        side = c.feature_side()
        self.conv2d = nn.Conv2d(c.in_channels, c.width1, 5)
        self.max_pooling2d = nn.MaxPool2d(2)
        self.conv2d_1 = nn.Conv2d(c.width1, c.width2, 3)
        self.max_pooling2d_1 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.dense = nn.Linear(c.width2 * side * side, c.hidden)
        self.dense_1 = nn.Linear(c.hidden, c.num_classes)

    def keras_layers(self) -> list[tuple[str, str, nn.Module, str | None]]:
        return [
            ("conv2d", "Conv2D", self.conv2d, "relu"),
            ("max_pooling2d", "MaxPooling2D", self.max_pooling2d, None),
            ("conv2d_1", "Conv2D", self.conv2d_1, "relu"),
            ("max_pooling2d_1", "MaxPooling2D", self.max_pooling2d_1, None),
            ("flatten", "Flatten", self.flatten, None),
            ("dense", "Dense", self.dense, "relu"),
            ("dense_1", "Dense", self.dense_1, "softmax"),
        ]

    def forward_reference(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W) -> logits (B, num_classes)."""
        x = self.max_pooling2d(F.relu(self.conv2d(x)))  # (B, 24, 12, 12)
        x = self.max_pooling2d_1(F.relu(self.conv2d_1(x)))  # (B, 32, 5, 5)
        return self.dense_1(F.relu(self.dense(self.flatten(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The same function with pooling before ReLU (they commute), a quarter of the ReLUs."""
        x = F.relu(F.max_pool2d(self.conv2d(x), 2))
        x = F.relu(F.max_pool2d(self.conv2d_1(x), 2))
        return self.dense_1(F.relu(self.dense(self.flatten(x))))


# The network families a card can name, and how to build each from its config.
def _sequential(config):
    from .sequential import from_card_config

    return from_card_config(config)


ARCHITECTURES = {
    "lecture-cnn": lambda config: LectureCNN(LectureCNNConfig(**config)),
    "fast-cnn": lambda config: FastCNN(FastCNNConfig(**config)),
    "sequential": _sequential,  # imagevars.Sequential: the layer list is in the card
}


def build_classifier(card: ModelCard, weights: str | os.PathLike | None = None) -> Classifier:
    """A :class:`Classifier` for ``card``, randomly initialised or loaded from a safetensors file.

    Example:
        >>> from imagevars import get_card
        >>> build_classifier(get_card("mnist-fast-cnn")).count_params()
        215194
    """
    if card.architecture not in ARCHITECTURES:
        raise ValueError(f"card {card.name!r} names an unknown architecture {card.architecture!r}")
    module = ARCHITECTURES[card.architecture](card.config)
    if weights is not None:
        from safetensors.torch import load_file

        state = load_file(os.fspath(weights))
        missing, unexpected = module.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(
                f"weights file {weights} does not fit {card.name!r} ({card.architecture}, {card.config}): "
                f"missing {missing}, unexpected {unexpected}"
            )
    module.eval()
    return Classifier(module, card)
