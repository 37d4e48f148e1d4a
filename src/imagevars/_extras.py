"""Optional dependencies: import them on first use, with an error that names the install to run."""

from __future__ import annotations

import importlib
from types import ModuleType

# module -> the extra of imagevars that installs it
EXTRAS = {
    "torch": "train",
    "safetensors": "train",
    "matplotlib": "train",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "transformers": "hub",
    "diffusers": "generate",
    "telegram": "bot",
    "imagehash": "vars",
    "pywt": "vars",
    "rapidocr_onnxruntime": "vars",
    "huggingface_hub": "hub",
    "tokenizers": "hub",
    "yaml": "hub",
    "captum": "explain",
    "shap": "explain",
    "sklearn": "learn",
    "scipy": "learn",
    "krippendorff": "validate",
    "statsmodels": "validate",
    "patsy": "validate",
    "ppi_py": "validate",
    "dask": "dask",
    "distributed": "dask",
    "ray": "ray",
    "av": "video",
    "trackers": "video",
    "supervision": "video",
    "accelerate": "generate",
}


def require(module: str, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise an ImportError saying which ``pip install`` provides it.

    Example:
        >>> require("json").__name__
        'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{purpose or module} needs {module}, which is not installed: {_install(module)}") from exc


def missing_extra(exc: BaseException) -> str | None:
    """For an ImportError of an optional dependency, wherever it was raised: the one line that names the extra
    to install; None for anything else.

    Example:
        >>> missing_extra(ModuleNotFoundError("No module named 'torch'", name="torch"))
        'this needs torch, which is not installed: pip install "imagevars[train]"'
        >>> missing_extra(ValueError("no")) is None
        True
    """
    if not isinstance(exc, ImportError) or not exc.name:
        return None
    module = exc.name.split(".")[0]
    if module not in EXTRAS:
        return None
    return f"this needs {module}, which is not installed: {_install(module)}"


def _install(module: str) -> str:
    """The command that installs ``module``: the imagevars extra that brings it, or pip's own name for it."""
    extra = EXTRAS.get(module)
    return f'pip install "imagevars[{extra}]"' if extra else f"pip install {module}"


def pyplot() -> ModuleType:
    """matplotlib's pyplot, headless (the Agg backend unless one is already chosen), or the install error.

    Example:
        >>> plt = pyplot()  # doctest: +SKIP
    """
    matplotlib = require("matplotlib", "drawing figures")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt
