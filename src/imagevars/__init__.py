"""imagevars: turn images and video into research variables with neural networks.

The flat public API. Importing it is light: numpy only; PyTorch, ONNX Runtime and the other
heavy libraries load when a task or model that needs them is first used.

Example:
    >>> import imagevars
    >>> "mnist-cnn" in imagevars.list_models()
    True
"""

from ._version import __version__
from . import datasets
from .io.table import Results
from .models.card import ModelCard
from .models.registry import create_model, get_card, list_models, register_model
from .train import mnist_cards  # registers mnist-cnn and mnist-fast-cnn (no PyTorch until one is built)


_LAZY = {
    "Sequential": ("imagevars.train.sequential", "Sequential"),
    "layers": ("imagevars.train.layers", None),
    "utils": ("imagevars.train.utils", None),
}


def __getattr__(name: str):
    """``imagevars.Sequential``, ``imagevars.layers`` and ``imagevars.utils`` load PyTorch on first use."""
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        loaded = importlib.import_module(module)
        return getattr(loaded, attr) if attr else loaded
    raise AttributeError(f"module 'imagevars' has no attribute {name!r}")


def run(tasks, source, output=None, **options):
    """Measure images with tasks; one tidy table out. See :func:`imagevars.pipeline.runner.run`.

    ``tasks`` are names (``"quality"``) or task objects (:func:`imagevars.tasks.get_task`).

    Example:
        >>> import imagevars
        >>> table = imagevars.run(["quality"], "PHOTOS/")  # doctest: +SKIP
    """
    from .pipeline.runner import run as _run
    from .tasks import get_task, task_spec

    make = get_task if options.get("engine", "local") == "local" else task_spec  # a cluster builds them on its workers
    return _run([make(t) for t in tasks], source, output, **options)


def explain(model, images, **options):
    """Explain a classifier's predictions (SHAP or Grad-CAM). See :func:`imagevars.explainers.explain`.

    Example:
        >>> import imagevars
        >>> values = imagevars.explain("mnist-cnn", test_X[:10], background=train_X[idx], method="deep")  # doctest: +SKIP
    """
    from .explainers import explain as _explain

    return _explain(model, images, **options)


def _concepts(model, images, target, **options):
    """Which concepts a network uses for a class: ACE and TCAV. See :func:`imagevars.explainers.concepts.concepts`.

    Example:
        >>> import imagevars
        >>> result = imagevars.explain.concepts("efficientnet-lite0", "VANS/", target="police van")  # doctest: +SKIP
    """
    from .explainers.concepts import concepts

    return concepts(model, images, target, **options)


explain.concepts = _concepts  # type: ignore[attr-defined]  # imagevars.explain(...) for SHAP and Grad-CAM, imagevars.explain.concepts(...) for ACE


def generate(prompts=None, output="stimuli", **options):
    """Text-to-image stimuli, each reproducible from its row. See :func:`imagevars.generation.generate`.

    Example:
        >>> import imagevars
        >>> table = imagevars.generate("Lithograph of a camel eating a pear", "stimuli", n=4, seed=7)  # doctest: +SKIP
    """
    from .generation import generate as _generate

    return _generate(prompts, output, **options)


__all__ = [
    "__version__",
    "datasets",
    "ModelCard",
    "Results",
    "run",
    "explain",
    "generate",
    "create_model",
    "get_card",
    "list_models",
    "register_model",
]
