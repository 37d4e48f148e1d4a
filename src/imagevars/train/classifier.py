"""A Keras-style image classifier on a PyTorch module: compile, fit, evaluate, predict.

Three levels, as in Keras, so nobody falls off a cliff:

1. ``compile`` + ``fit`` + ``evaluate`` + ``predict`` with callbacks and a history.
2. Override :meth:`Classifier.train_step` (and :meth:`test_step`) for a custom step while
   keeping ``fit``'s batching, progress bar, validation and callbacks.
3. Write your own loop on ``model.module`` (a plain ``torch.nn.Module`` returning logits),
   using :func:`imagevars.train.arrays.to_inputs` to prepare images.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._memory import reuse_freed_memory
from ..models.card import ModelCard
from .arrays import to_inputs, to_labels
from .callbacks import Callback, History
from .summary import format_summary, weight_count

_LOSSES = {"categorical_crossentropy", "sparse_categorical_crossentropy", "crossentropy"}
# Keras's dtype policy names: "mixed_bfloat16" computes convolutions and matrix products in bfloat16 and keeps the
# weights, the optimizer's state and the loss in float32 (keras.mixed_precision.set_global_policy)
PRECISIONS = ("float32", "mixed_bfloat16")


# Convolutions run in channels-last (NHWC) memory order: oneDNN's kernels are faster there and
# no layout conversions happen between layers. Measured with the lecture's network on 2 cores:
# 59.6 -> 37.2 ms per batch of 128 (bench/lecture_epoch.py gives the whole-epoch figure).
MEMORY_FORMAT = torch.channels_last


def adam(params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-7) -> torch.optim.Adam:
    """Adam with Keras's epsilon, using the fused CPU kernel (one pass over all parameters).

    Example:
        >>> import torch
        >>> adam([torch.nn.Parameter(torch.zeros(3))]).defaults["eps"]
        1e-07
    """
    return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, fused=True)


def _optimizer(spec: Any, params, learning_rate: float | None) -> torch.optim.Optimizer:
    """Keras names with Keras defaults, or a torch optimizer / factory."""
    if isinstance(spec, torch.optim.Optimizer):
        return spec
    if callable(spec):
        return spec(params)
    name = str(spec).lower()
    if name == "adam":
        return adam(params, lr=learning_rate or 1e-3)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=learning_rate or 1e-3, eps=1e-7, weight_decay=4e-3)
    if name == "sgd":
        return torch.optim.SGD(params, lr=learning_rate or 1e-2)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=learning_rate or 1e-3, alpha=0.9, eps=1e-7)
    raise ValueError(f"unknown optimizer {spec!r}; use 'adam', 'adamw', 'sgd', 'rmsprop' or a torch optimizer")


class Classifier:
    """An image classifier with Keras's methods. ``module`` returns logits; outputs are softmaxed.

    Example:
        >>> import numpy as np, imagevars
        >>> model = imagevars.create_model("mnist-cnn")
        >>> model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
        >>> x = np.random.default_rng(0).integers(0, 255, (64, 28, 28), dtype=np.uint8)
        >>> history = model.fit(x, np.arange(64) % 10, batch_size=32, epochs=1, verbose=0)
        >>> model.predict(x[:2], verbose=0).shape
        (2, 10)
    """

    def __init__(self, module: nn.Module, card: ModelCard):
        self.module = module.to(memory_format=MEMORY_FORMAT)
        self.card = card
        self.optimizer: torch.optim.Optimizer | None = None
        self.loss: str | None = None
        self.metrics: list[str] = []
        self.history: History | None = None
        self.stop_training = False
        self.augment: Callable[[torch.Tensor], torch.Tensor] | None = None  # applied to training batches only
        self.precision = "float32"

    # ------------------------------------------------------------------ description
    @property
    def labels(self) -> tuple[str, ...]:
        return self.card.labels

    def count_params(self) -> int:
        """Every weight, as Keras counts them (batch normalisation's moving statistics included)."""
        return sum(weight_count(self.module))

    def summary(self, print_fn: Callable[[str], Any] | None = print) -> str:
        """Print (and return) layer, output shape and parameter count per layer, as Keras does."""
        text = format_summary(self.module, self.card.input_size, name=self.card.name)
        if print_fn is not None:
            print_fn(text)
        return text

    # ------------------------------------------------------------------ training
    def compile(
        self,
        optimizer: Any = "adam",
        loss: str = "categorical_crossentropy",
        metrics: Sequence[str] = ("accuracy",),
        learning_rate: float | None = None,
        precision: str = "float32",
    ) -> None:
        """Choose optimizer, loss and metrics. Names and defaults follow Keras (Adam: lr 1e-3, eps 1e-7).

        ``categorical_crossentropy`` accepts one-hot rows or class indices alike. ``precision``
        ``"mixed_bfloat16"`` (Keras's policy name) runs the convolutions and matrix products in bfloat16,
        in training and prediction, with weights, optimizer and loss in float32: about 3x faster steps on
        CPUs with AMX (Intel Xeon 4th generation and later; ``bench/lecture_epoch.py``), slower on CPUs
        without bfloat16 instructions. The lecture's recipe reaches the same test accuracy (mean 98.99%
        over five seeds, float32 99.01%: ``bench/mnist.py lecture --precision mixed_bfloat16``). Not every
        network gains: a training step of EfficientNet-Lite0 at 224 px (depthwise convolutions) took 0.9 s
        instead of 0.69 s on the same CPU, so time it on yours.
        """
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; use {' or '.join(map(repr, PRECISIONS))}")
        if loss not in _LOSSES:
            raise ValueError(f"unknown loss {loss!r}; use one of {sorted(_LOSSES)}")
        metrics = ["accuracy" if m in ("acc", "accuracy") else m for m in metrics]
        unknown = [m for m in metrics if m != "accuracy"]
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; 'accuracy' is supported")
        self.optimizer = _optimizer(optimizer, self.module.parameters(), learning_rate)
        self.loss, self.metrics, self.precision = loss, list(metrics), precision

    def _autocast(self):
        """bfloat16 autocast on the module's device under ``mixed_bfloat16``; nothing under ``float32``."""
        if self.precision != "mixed_bfloat16":
            return contextlib.nullcontext()
        device = next(self.module.parameters()).device.type
        return torch.autocast(device, dtype=torch.bfloat16)

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """One optimisation step on a batch; returns batch-mean figures. Override for a custom step."""
        if self.augment is not None:
            x = self.augment(x)
        with self._autocast():
            logits = self.module(x).float()
        loss = F.cross_entropy(logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return self._logs(loss.detach(), logits.detach(), y)

    def test_step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Figures on a batch without updating weights."""
        with self._autocast():
            logits = self.module(x).float()
        return self._logs(F.cross_entropy(logits, y), logits, y)

    def _logs(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        logs = {"loss": loss}
        if "accuracy" in self.metrics:
            target = y if y.ndim == 1 else y.argmax(1)
            logs["accuracy"] = (logits.argmax(1) == target).float().mean()
        return logs

    def fit(
        self,
        x: np.ndarray | torch.Tensor,
        y: np.ndarray | torch.Tensor,
        batch_size: int = 32,
        epochs: int = 1,
        verbose: int = 1,
        callbacks: Sequence[Callback] = (),
        validation_split: float = 0.0,
        validation_data: tuple[Any, Any] | None = None,
        shuffle: bool = True,
        seed: int | None = None,
    ) -> History:
        """Train for ``epochs`` passes over ``x``; returns the :class:`History`.

        As in Keras, ``validation_split`` holds out the *last* fraction of ``x`` (before any
        shuffling): arrays ordered by class give a one-class validation set, so shuffle them first or
        pass ``validation_data`` (``imagevars train`` on a folder draws a stratified random share:
        :mod:`imagevars.train.folder_plan`). Batches are shuffled each epoch by a generator seeded from ``seed`` (or from
        PyTorch's generator, so :func:`imagevars.train.set_seed` makes runs reproducible).
        """
        if self.optimizer is None:
            raise RuntimeError("call model.compile(...) before model.fit(...)")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
        xt = to_inputs(x, self.card, "x")
        yt = to_labels(y, len(self.labels), "y")
        if len(xt) != len(yt):
            raise ValueError(f"x has {len(xt)} images but y has {len(yt)} labels")
        val = None
        if validation_data is not None:
            val = (
                to_inputs(validation_data[0], self.card, "validation x"),
                to_labels(validation_data[1], len(self.labels), "validation y"),
            )
        elif validation_split > 0:
            n_val = int(len(xt) * validation_split)
            if n_val == 0 or n_val == len(xt):
                raise ValueError(f"validation_split {validation_split} leaves no data on one side of {len(xt)} images")
            val = (xt[-n_val:], yt[-n_val:])
            xt, yt = xt[:-n_val], yt[:-n_val]
        if len(xt) == 0:
            raise ValueError("no training images")
        rng = np.random.default_rng(seed if seed is not None else int(torch.randint(0, 2**62, (1,)).item()))

        history = History()
        callbacks = [history, *callbacks]
        for cb in callbacks:
            cb.model = self
        self.stop_training = False
        for cb in callbacks:
            cb.on_train_begin()
        steps = -(-len(xt) // batch_size)
        with reuse_freed_memory():  # no page faults on the tensors every step frees and allocates again
            for epoch in range(epochs):
                for cb in callbacks:
                    cb.on_epoch_begin(epoch)
                logs = self._train_epoch(
                    xt, yt, batch_size, steps, rng if shuffle else None, callbacks, epoch, epochs, verbose, val
                )
                for cb in callbacks:
                    cb.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        for cb in callbacks:
            cb.on_train_end()
        self.module.eval()
        self.history = history
        return history

    def _train_epoch(self, xt, yt, batch_size, steps, rng, callbacks, epoch, epochs, verbose, val) -> dict[str, float]:
        from tqdm.auto import tqdm

        self.module.train()
        order = torch.from_numpy(rng.permutation(len(xt))) if rng is not None else None
        sums: dict[str, torch.Tensor] = {}
        seen = 0
        every = max(1, steps // 25)
        with tqdm(
            total=steps,
            desc=f"Epoch {epoch + 1}/{epochs}",
            unit="batch",
            disable=verbose == 0,
            dynamic_ncols=True,
            leave=True,
        ) as bar:
            for step in range(steps):
                idx = slice(step * batch_size, (step + 1) * batch_size)
                if order is not None:
                    idx = order[idx]
                xb, yb = xt[idx].contiguous(memory_format=MEMORY_FORMAT), yt[idx]
                for cb in callbacks:
                    cb.on_train_batch_begin(step)
                batch_logs = self.train_step(xb, yb)
                n = len(xb)
                for k, v in batch_logs.items():
                    sums[k] = sums.get(k, 0.0) + v * n
                seen += n
                for cb in callbacks:
                    cb.on_train_batch_end(step, batch_logs)
                bar.update(1)
                if (step + 1) % every == 0 or step + 1 == steps:
                    bar.set_postfix({k: f"{float(v) / seen:.4f}" for k, v in sums.items()}, refresh=False)
            logs = {k: float(v) / seen for k, v in sums.items()}
            if val is not None:
                logs.update({f"val_{k}": v for k, v in self._evaluate(*val, batch_size=max(256, batch_size)).items()})
            bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=True)
        return logs

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def _evaluate(self, xt: torch.Tensor, yt: torch.Tensor, batch_size: int) -> dict[str, float]:
        self.module.eval()
        sums: dict[str, float] = {}
        for i in range(0, len(xt), batch_size):
            logs = self.test_step(
                xt[i : i + batch_size].contiguous(memory_format=MEMORY_FORMAT), yt[i : i + batch_size]
            )
            n = len(xt[i : i + batch_size])
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + float(v) * n
        return {k: v / len(xt) for k, v in sums.items()}

    def evaluate(self, x, y, batch_size: int = 256, verbose: int = 1, return_dict: bool = False):
        """Loss and metrics on ``(x, y)``: ``[loss, accuracy]`` as Keras returns them.

        Example:
            >>> import imagevars
            >>> (_, _), (test_X, test_Y) = imagevars.datasets.mnist.load_data()  # doctest: +SKIP
            >>> loss, acc = imagevars.create_model("mnist-cnn", pretrained=True).evaluate(test_X, test_Y)  # doctest: +SKIP
        """
        if not self.metrics and self.loss is None:
            self.metrics = ["accuracy"]
        xt, yt = to_inputs(x, self.card, "x"), to_labels(y, len(self.labels), "y")
        if len(xt) != len(yt):
            raise ValueError(f"x has {len(xt)} images but y has {len(yt)} labels")
        logs = self._evaluate(xt, yt, batch_size)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        return logs if return_dict else [logs[k] for k in logs]

    @torch.no_grad()
    def predict(self, x, batch_size: int = 256, verbose: int = 0) -> np.ndarray:
        """Class probabilities, (N, num_classes) float32, as Keras's softmax output."""
        self.module.eval()
        xt = to_inputs(x, self.card, "x")
        with self._autocast():
            out = [
                torch.softmax(self.module(xt[i : i + batch_size].contiguous(memory_format=MEMORY_FORMAT)).float(), 1)
                for i in range(0, len(xt), batch_size)
            ]
        return torch.cat(out).numpy() if out else np.zeros((0, len(self.labels)), np.float32)

    # ------------------------------------------------------------------ saving
    def save(self, directory, **training: Any):
        """Save weights (safetensors), card (JSON) and an ONNX export to ``directory``."""
        from .saving import save_model

        return save_model(self, directory, **training)

    def with_card(self, **changes: Any) -> Classifier:
        """The same model with card fields replaced (name, labels, training record ...)."""
        self.card = dataclasses.replace(self.card, **changes)
        return self
