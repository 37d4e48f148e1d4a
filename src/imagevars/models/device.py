"""Which device the models run on: the CPU, unless ``IMAGEVARS_DEVICE`` names a GPU.

``IMAGEVARS_DEVICE=cuda`` (or ``cuda:1``) puts the PyTorch models (hub classifiers, backbones and
detectors, CLIP, open-vocabulary detectors, vision-language models) on that GPU, and the ONNX models
(the bundled detector, classifier, face and text models) on ONNX Runtime's CUDA provider when
``onnxruntime-gpu`` is installed (otherwise they stay on the CPU, with a warning).
The Ray engine sets it in actors that hold a GPU (``--gpus-per-actor``), so a cluster's GPUs run
the models while decoding stays on its CPUs. Numbers computed on a GPU can differ from the CPU's in
the last digits; the run's provenance records where the models ran (``engine.models_on``).

Example:
    >>> torch_device()   # IMAGEVARS_DEVICE unset
    'cpu'
"""

from __future__ import annotations

import os

ENV = "IMAGEVARS_DEVICE"


class DeviceError(RuntimeError):
    """A device was asked for that this machine does not have."""


def torch_device() -> str:
    """The PyTorch device the models go to: ``IMAGEVARS_DEVICE`` (default ``cpu``), checked.

    ``meta`` is accepted too: the tests run models on it to check that every input follows the model
    to its device.
    """
    name = torch_device_name()
    if name == "cpu" or name == "meta":
        return name
    if name == "cuda" or name.startswith("cuda:"):
        import torch

        if not torch.cuda.is_available():
            raise DeviceError(
                f"{ENV}={name}, but PyTorch sees no GPU (torch.cuda.is_available() is False): "
                f"install a CUDA build of torch, or unset {ENV} to run on the CPU"
            )
        return name
    raise DeviceError(f"{ENV}={name!r} is not a device: use cpu, cuda or cuda:<index>")


def onnx_providers() -> list[str]:
    """ONNX Runtime's execution providers for this device: CUDA first when a GPU is asked for and
    ``onnxruntime-gpu`` offers it, the CPU always."""
    name = torch_device_name()
    if not name.startswith("cuda"):
        return ["CPUExecutionProvider"]
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        _warn_once(
            f"{ENV}={name}: this onnxruntime has no CUDA provider, so the ONNX models (detect, classify, "
            "faces, text) run on the CPU; pip install onnxruntime-gpu to run them on the GPU"
        )
        return ["CPUExecutionProvider"]
    return ["CUDAExecutionProvider", "CPUExecutionProvider"]


def torch_device_name() -> str:
    """``IMAGEVARS_DEVICE`` as given (default ``cpu``), without importing PyTorch."""
    return os.environ.get(ENV, "").strip() or "cpu"


_WARNED: set = set()


def _warn_once(message: str) -> None:
    import warnings

    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, stacklevel=3)
