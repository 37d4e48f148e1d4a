"""``model.summary()``: layer, output shape and parameters, printed as Keras prints them."""

from __future__ import annotations

import torch
from torch import nn


def running_stats(module: nn.Module) -> int:
    """Batch normalisation's moving mean and variance: weights to Keras (non-trainable), buffers to PyTorch."""
    return sum(
        m.running_mean.numel() + m.running_var.numel()
        for m in module.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None
    )


def weight_count(module: nn.Module) -> tuple[int, int]:
    """(trainable, non-trainable) weights as Keras counts them.

    Example:
        >>> weight_count(nn.BatchNorm2d(8))
        (16, 16)
    """
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad)
    return trainable, frozen + running_stats(module)


def layer_table(module: nn.Module, input_size: tuple[int, int, int]) -> list[tuple[str, str, tuple, int]]:
    """(name, type, output shape in Keras's (None, H, W, C) order, parameters) per layer.

    Runs one dummy image through ``module.forward_reference`` with hooks on each layer.
    """
    h, w, c = input_size
    layers = module.keras_layers()
    shapes: dict[str, tuple] = {}
    hooks = [
        layer.register_forward_hook(lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:])))
        for name, _t, layer, _a in layers
    ]
    was_training = module.training
    try:
        module.eval()
        with torch.no_grad():
            module.forward_reference(torch.zeros(1, c, h, w))
    finally:
        module.train(was_training)
        for hook in hooks:
            hook.remove()
    rows = []
    for name, kind, layer, _act in layers:
        shape = shapes[name]
        if len(shape) == 3:  # (C, H, W) -> Keras's (H, W, C)
            shape = (shape[1], shape[2], shape[0])
        rows.append((name, kind, (None, *shape), sum(weight_count(layer))))
    return rows


def format_summary(module: nn.Module, input_size: tuple[int, int, int], name: str = "sequential") -> str:
    """The summary text.

    Example:
        >>> import imagevars
        >>> print(imagevars.create_model("mnist-cnn").summary(print_fn=None))  # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
        Model: "mnist-cnn"
        ...
        Total params: 34,826 (136.04 KB)
        ...
    """
    rows = layer_table(module, input_size)
    trainable, frozen = weight_count(module)
    total = trainable + frozen
    widths = (max(33, *(len(f"{n} ({k})") + 2 for n, k, _, _ in rows)), 26, 15)
    rule = "─" * sum(widths)
    lines = [f'Model: "{name}"', "━" * sum(widths)]
    lines.append(f"{'Layer (type)':<{widths[0]}}{'Output Shape':<{widths[1]}}{'Param #':>{widths[2]}}")
    lines.append(rule)
    for layer, kind, shape, params in rows:
        shape_text = "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"
        lines.append(f"{layer + ' (' + kind + ')':<{widths[0]}}{shape_text:<{widths[1]}}{params:>{widths[2]},}")
    lines.append("━" * sum(widths))
    lines.append(f" Total params: {total:,} ({_size(total)})")
    lines.append(f" Trainable params: {trainable:,} ({_size(trainable)})")
    lines.append(f" Non-trainable params: {total - trainable:,} ({_size(total - trainable)})")
    return "\n".join(lines)


def _size(n: int) -> str:
    b = 4 * n  # float32
    return f"{b / 1024:.2f} KB" if b >= 1024 else f"{b:.2f} B"
