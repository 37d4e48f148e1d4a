"""The network as the explainers need it: every operation a module, checked differentiable.

DeepExplainer (DeepLIFT's rescale rule, as SHAP implements it for PyTorch) sees a network only
through forward hooks on its modules: a ReLU written as ``F.relu`` inside ``forward`` is
invisible to it and its attributions stop adding up. imagevars's networks list their layers
(``keras_layers``), so they are rebuilt here as an ``nn.Sequential`` of their layers with
explicit ``nn.ReLU`` / ``nn.Softmax`` modules, in the textbook order, on a copy in NCHW layout
(the trainer keeps weights channels-last, which would make every hooked operation convert
layouts). Other modules are used as they are, and the additivity check in
:func:`imagevars.explain` tells when that is not good enough.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def _activations() -> dict:
    """Activation names as modules (softmax is chosen by ``output``): Keras's names, as imagevars.layers has them."""
    from ..train.layers import ACTIVATIONS

    return {k: v for k, v in ACTIVATIONS.items() if k not in ("softmax", "linear")} | {"softmax": None, None: None}


def explainable(module: nn.Module, output: str = "probability") -> nn.Module:
    """``module`` (logits out) as a network of modules whose output is ``output``.

    Args:
        module: an imagevars network (or any ``nn.Module`` returning logits).
        output: ``"probability"`` (softmax, what the lecture explains) or ``"logit"``.

    Example:
        >>> import imagevars
        >>> net = explainable(imagevars.create_model("mnist-cnn").module)
        >>> [type(m).__name__ for m in net][:3]
        ['Conv2d', 'ReLU', 'MaxPool2d']
    """
    if output not in ("probability", "logit"):
        raise ValueError(f"output must be 'probability' or 'logit', got {output!r}")
    module = copy.deepcopy(module).to(memory_format=torch.contiguous_format)  # never touch the caller's model
    layers: list[nn.Module] = []
    if hasattr(module, "keras_layers"):
        _ACTIVATIONS = _activations()
        for _, kind, layer, activation in module.keras_layers():
            if kind == "Dropout":
                continue  # identity at inference
            layers.append(layer)
            if activation not in _ACTIVATIONS:
                raise ValueError(f"cannot explain a layer with activation {activation!r}")
            if _ACTIVATIONS[activation] is not None:
                layers.append(_ACTIVATIONS[activation]())
    else:
        layers.append(module)
    if output == "probability":
        layers.append(nn.Softmax(dim=1))
    return nn.Sequential(*layers).eval()


def last_conv(net: nn.Module) -> nn.Module:
    """The module whose output Grad-CAM weighs: the activation after the last convolution.

    In an :func:`explainable` network that is the ReLU following the last ``Conv2d`` (the
    rectified feature maps of Selvaraju et al.); otherwise the last ``Conv2d`` itself.
    """
    modules = list(net.modules())
    convs = [i for i, m in enumerate(modules) if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError(
            "Grad-CAM needs a convolutional layer (nn.Conv2d) and this model has none; use method='deep' or 'gradient'"
        )
    i = convs[-1]
    nxt = modules[i + 1] if i + 1 < len(modules) else None
    return nxt if isinstance(nxt, nn.ReLU) else modules[i]


def check_differentiable(net: nn.Module, x: torch.Tensor) -> None:
    """Raise a clear error unless the output has a non-zero gradient with respect to the input.

    Explanations by gradients (SHAP's Deep and Gradient explainers, Grad-CAM) need a network
    that is differentiable end to end: no ``.detach()``, NumPy, rounding or argmax inside.
    """
    x = x[:2].clone().requires_grad_(True)
    with torch.enable_grad():
        out = net(x)
        if not isinstance(out, torch.Tensor) or out.ndim != 2:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValueError(f"the model must return one score per class, (N, classes); it returned {shape}")
        if not out.requires_grad:
            raise ValueError(
                "the model is not differentiable end to end: its output does not depend on the input "
                "through autograd (a .detach(), NumPy call or integer step inside forward?); gradient-based "
                "explanations need a differentiable model"
            )
        (grad,) = torch.autograd.grad(out.max(1).values.sum(), x, allow_unused=True)  # not out.sum(): softmax sums to 1
    if grad is None or not bool(grad.abs().sum() > 0):
        raise ValueError(
            "the model is not differentiable end to end: the gradient of its output with respect to the "
            "input is zero everywhere (rounding, argmax or thresholding inside forward?); gradient-based "
            "explanations would all be zero"
        )
