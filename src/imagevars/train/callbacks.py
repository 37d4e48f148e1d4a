"""Callbacks in the Keras manner: hooks called by :meth:`Classifier.fit` as training runs."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


class Callback:
    """Base class. Override the hooks you need; ``self.model`` is the Classifier being fit."""

    model: Any = None

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...


class History(Callback):
    """Records every epoch's logs; ``fit`` returns it. ``history.history["val_accuracy"]``."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(float(v))


class EarlyStopping(Callback):
    """Stop when a monitored figure has stopped improving for ``patience`` epochs.

    ``restore_best_weights`` puts back the weights of the best epoch when training ends (Keras 3
    does so only when it stops early; here a run that used every epoch ends on its best one too).

    Example:
        >>> stop = EarlyStopping(monitor="val_loss", patience=2)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ):
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.restore_best_weights, self.best_weights, self.best_epoch = restore_best_weights, None, None
        self.sign = -1.0 if mode == "max" or (mode == "auto" and "acc" in monitor) else 1.0
        self.stopped_epoch: int | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.best, self.wait, self.stopped_epoch, self.best_weights, self.best_epoch = math.inf, 0, None, None, None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.monitor not in (logs or {}):
            raise KeyError(f"EarlyStopping monitors {self.monitor!r}, but the logs have {sorted(logs or {})}")
        value = self.sign * float(logs[self.monitor])
        if value < self.best - self.min_delta:
            self.best, self.wait, self.best_epoch = value, 0, epoch
            if self.restore_best_weights:
                self.best_weights = {k: v.detach().clone() for k, v in self.model.module.state_dict().items()}
        else:
            self.wait += 1
            if self.wait > self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.module.load_state_dict(self.best_weights)


class LearningRateScheduler(Callback):
    """Set the learning rate from ``schedule(step, lr)``, each epoch or each batch.

    With ``per_batch=True`` the step counts batches from the start of training, which is
    what one-cycle and warm-up schedules need.

    Example:
        >>> halve = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    """

    def __init__(self, schedule: Callable[[int, float], float], per_batch: bool = False):
        self.schedule, self.per_batch, self.step = schedule, per_batch, 0

    def _set(self, step: int) -> None:
        for group in self.model.optimizer.param_groups:
            group["lr"] = float(self.schedule(step, group["lr"]))

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.step = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if not self.per_batch:
            self._set(epoch)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self.per_batch:
            self._set(self.step)
            self.step += 1
