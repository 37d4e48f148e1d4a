"""Finding a model's weights: an explicit path, the package, the cache, then a download.

Every file is checked against the sha256 on the model's card before it is used, wherever it
was found, so a number in a paper can always be traced to exact weights.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from .._env import home, offline
from ..io.files import sha256_file
from ..io.http import ChecksumError, download
from .card import ModelCard

BUNDLED = resources.files("imagevars.models") / "weights"


def cache_path(card: ModelCard) -> Path:
    """Where a model's weights live in the cache: ``$IMAGEVARS_HOME/models/<name>/<file>``."""
    assert card.weights is not None
    return home() / "models" / card.name / card.weights.filename


def resolve_weights(card: ModelCard, path: str | os.PathLike | None = None, *, progress: bool = True) -> Path:
    """The local, verified weights file for a model card.

    Looks in order at: ``path``; the file bundled in the package; the cache; then downloads it
    into the cache (unless offline), with a progress bar. The sha256 is checked each time.

    Example:
        >>> from imagevars import get_card
        >>> resolve_weights(get_card("mnist-cnn")).suffix
        '.safetensors'
    """
    src = card.weights
    if src is None:
        raise ValueError(f"model {card.name!r} has no published weights; train it or pass a weights file")
    if path is not None:
        return verified_file(Path(path), src.sha256, card.name)
    if src.bundled:
        bundled = Path(str(BUNDLED / src.filename))
        if bundled.exists():
            return verified_file(bundled, src.sha256, card.name)
    cached = cache_path(card)
    if cached.exists():
        return verified_file(cached, src.sha256, card.name)
    urls = _urls(card)
    if not urls:
        raise FileNotFoundError(
            f"the weights of {card.name!r} ({src.filename}) should ship with imagevars but are missing; "
            "reinstall imagevars"
        )
    if offline():
        raise FileNotFoundError(
            f"the weights of {card.name!r} are not in the cache ({cached}) and downloads are off "
            f"(IMAGEVARS_OFFLINE/HF_HUB_OFFLINE). Unset it once to download from {urls[0]}, "
            f"or copy {src.filename} to {cached}."
        )
    return download(urls, cached, sha256=src.sha256, progress=progress, what=f"{card.name} weights")


def _urls(card: ModelCard) -> list[str]:
    src = card.weights
    urls = [src.url] if src.url else []
    if src.hf_repo:
        urls.append(f"https://huggingface.co/{src.hf_repo}/resolve/{src.revision or 'main'}/{src.filename}")
    return urls


def verified_file(path: Path, sha256: str, name: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"weights file {path} for {name!r} does not exist")
    got = sha256_file(path)
    if got != sha256:
        raise ChecksumError(
            f"weights file {path} for {name!r} has sha256 {got[:16]}…, but the model card expects "
            f"{sha256[:16]}…; delete it to fetch a fresh copy, or pass the right file"
        )
    return path


def onnx_session(path: str | os.PathLike, threads: int | None = None, purpose: str = "an ONNX model"):
    """An onnxruntime CPU session for a bundled or converted model: ``threads`` intra-op threads (default: the
    usable cores, :func:`imagevars._env.threads`), one inter-op thread, sequential execution, and int8 products
    that do not saturate on CPUs without VNNI."""
    from .._env import threads as default_threads
    from .._extras import require

    ort = require("onnxruntime", purpose)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads or default_threads(), 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # int8 models: on x86 CPUs without VNNI, onnxruntime's u8s8 kernels add pairs of products in 16 bits and
    # saturate (the int8 EfficientNet's probabilities moved by 0.14 on an AVX2 CPU); this option makes it use u8u8
    # there (0.011, as with VNNI) and does nothing on CPUs with VNNI or for float models
    opts.add_session_config_entry("session.x64quantprecision", "1")
    from .device import onnx_providers

    return ort.InferenceSession(os.fspath(path), opts, providers=onnx_providers())


class LazySession:
    """An :func:`onnx_session` made on first use. The local engine's workers run their own copies of a task's model,
    so the copy the main process builds to describe the run (columns, provenance) never needs its weights in
    memory: 35 MB for ``detect``, 71 MB for ``classify`` and ``embed``. A missing onnxruntime still fails at once.

    Example:
        >>> import imagevars
        >>> detector = imagevars.create_model("centernet-mbv3-coco")
        >>> detector.session.loaded
        False
        >>> detector.session.get_inputs()[0].name, detector.session.loaded
        ('images', True)
    """

    def __init__(self, path: str | os.PathLike, threads: int | None = None, purpose: str = "an ONNX model"):
        from .._extras import require

        require("onnxruntime", purpose)
        self._args, self._session = (path, threads, purpose), None

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("_args", "_session"):
            raise AttributeError(name)
        if self._session is None:
            self._session = onnx_session(*self._args)
        return getattr(self._session, name)
