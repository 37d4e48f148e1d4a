"""Shared Hugging Face hub settings: where models are cached, whether to download, what to say when it fails."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .._env import home, offline

PROBE_TIMEOUT_S = 5.0
PROBE_TTL_S = 300.0
_PROBED: dict[str, tuple[float, str | None]] = {}  # endpoint -> (when, why not reachable)
_clock = time.monotonic


def cache_dir() -> str | None:
    """``$IMAGEVARS_HOME/hf``, unless the user set ``HF_HOME`` or ``HF_HUB_CACHE`` (theirs win)."""
    if os.environ.get("HF_HOME") or os.environ.get("HF_HUB_CACHE"):
        return None
    return str(Path(home()) / "hf")


def split_spec(spec: str) -> tuple[str, str | None]:
    """``owner/name@revision`` -> (repo, revision); a local folder is returned whole, revision None.

    Example:
        >>> split_spec("openai/clip-vit-base-patch32@v1")
        ('openai/clip-vit-base-patch32', 'v1')
    """
    if Path(spec).is_dir():
        return spec, None
    repo, _, revision = spec.partition("@")
    return repo, revision or None


def snapshot_folder(repo: str, revision: str | None) -> Path | None:
    """The folder of the cached snapshot of ``repo`` at ``revision`` (named by its commit); None for a local
    folder or when it is not cached."""
    if Path(repo).is_dir():
        return None
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo, revision=revision, cache_dir=cache_dir(), local_files_only=True))
    except Exception:  # noqa: BLE001 - a record (commit, weights), not a requirement
        return None


def snapshot_commit(repo: str, revision: str | None) -> str | None:
    """The hub commit of the cached snapshot of ``repo`` (None for a local folder or if not cached)."""
    folder = snapshot_folder(repo, revision)
    return None if folder is None else folder.name


def unreachable() -> str | None:
    """Why the hub cannot be reached from here (None when it can): one quick request to its endpoint, remembered
    for :data:`PROBE_TTL_S` seconds per endpoint (a notebook that comes back online finds the hub again).
    Without it a machine with no connection waits on every file's retries (about 23 s each when the name does
    not resolve: 2.5 minutes for CLIP) before the error."""
    from huggingface_hub import constants

    endpoint, now = constants.ENDPOINT, _clock()
    if endpoint not in _PROBED or now - _PROBED[endpoint][0] > PROBE_TTL_S:
        _PROBED[endpoint] = (now, _probe(endpoint))
    return _PROBED[endpoint][1]


def _probe(endpoint: str) -> str | None:
    from huggingface_hub.utils import get_session

    try:
        get_session().head(endpoint, timeout=PROBE_TIMEOUT_S)  # any answer, an error status too, means reachable
    except Exception as exc:  # noqa: BLE001 - no route, no name, refused, timed out: all say "not from here"
        return f"{endpoint}: {exc}".splitlines()[0]
    return None


def local_only() -> bool:
    """Whether hub files come from the cache alone: downloads are off, or the hub cannot be reached."""
    return offline() or unreachable() is not None


def load_error(what: str, spec: str, local: bool, exc: Exception) -> str:
    """The message for a hub model that could not be loaded, saying how to get it."""
    if offline() and not local:
        how = (
            "it is not in the cache and downloads are off (IMAGEVARS_OFFLINE / HF_HUB_OFFLINE): run once "
            "with internet, or pass a local folder saved with save_pretrained"
        )
    elif not local and (why := unreachable()):
        how = (
            f"it is not in the cache and the hub cannot be reached from here ({why}): run once with internet, "
            "or pass a local folder saved with save_pretrained"
        )
    else:
        how = f"check the name on huggingface.co and your connection ({exc})"
    return f"cannot load the {what} {spec!r}: {how}"


def from_pretrained(repo: str, revision: str | None, what: str, error: type[Exception], *classes, **options) -> list:
    """``cls.from_pretrained(repo, **options)`` for each class: from a local folder as is, else
    from the hub cache under :func:`cache_dir` (downloading unless :func:`local_only`); failures
    raise ``error`` with a message that says how to get the model."""
    local = Path(repo).is_dir()
    kw = (
        dict(options)
        if local
        else {"revision": revision, "cache_dir": cache_dir(), "local_files_only": local_only(), **options}
    )
    try:
        return [cls.from_pretrained(repo, **kw) for cls in classes]
    except OSError as exc:
        raise error(load_error(what, repo if not revision else f"{repo}@{revision}", local, exc)) from None


def from_config(repo: str, revision: str | None, what: str, error: type[Exception], model_class, *classes) -> list:
    """Random weights in the architecture the repo's ``config.json`` describes, and ``classes`` loaded as usual.

    Only the small files are read (configuration, tokenizer, image processor), from a local
    folder or the hub cache (fetched unless offline); the weights are never downloaded. What
    ``create_model(name, pretrained=False)`` builds for a hub model.
    """
    from transformers import AutoConfig

    config, *rest = from_pretrained(repo, revision, what, error, AutoConfig, *classes)
    return [*rest, model_class.from_config(config)]


def processor_side(processor, default: int) -> int:
    """The square side an image processor crops (when it does) or resizes to.

    Example:
        >>> from types import SimpleNamespace as P
        >>> processor_side(P(size={"height": 640, "width": 640}), 512), processor_side(P(size={}), 224)
        (640, 224)
    """
    for attr in ("crop_size", "size") if getattr(processor, "do_center_crop", False) else ("size",):
        size = getattr(processor, attr, None)
        for key in ("height", "shortest_edge", "width"):
            value = size.get(key) if hasattr(size, "get") else getattr(size, key, None)
            if value:
                return int(value)
    return default


def open_hub_model(
    repo: str,
    revision: str | None,
    what: str,
    error: type[Exception],
    model_class,
    *,
    processor_class=None,
    pretrained: bool = True,
    threads: int | None = None,
    purpose: str = "",
):
    """(processor, model in eval mode, commit loaded) of a transformers model, with the compute threads set.

    ``repo`` is a hub id (from the cache, downloaded unless offline) or a local folder;
    ``pretrained=False`` builds random weights from its configuration (:func:`from_config`).
    ``model_class`` and ``processor_class`` pick auto classes from the transformers module
    (``lambda t: t.AutoModel``; default processor: ``AutoImageProcessor``), which is imported here
    because it is an optional dependency. ``purpose`` names the feature in a missing-install error.
    """
    from .._env import threads as default_threads
    from .._extras import require

    transformers = require("transformers", purpose or f"hub {what}s")
    torch = require("torch", purpose or f"hub {what}s")
    auto_model = model_class(transformers)
    auto_processor = (processor_class or (lambda t: t.AutoImageProcessor))(transformers)
    if pretrained:
        processor, model = from_pretrained(repo, revision, what, error, auto_processor, auto_model)
    else:  # the architecture from config.json, random weights (nothing large downloaded)
        processor, model = from_config(repo, revision, what, error, auto_model, auto_processor)
    from .device import torch_device

    torch.set_num_threads(threads or default_threads())
    model = model.to(torch_device()).eval()  # the CPU, or IMAGEVARS_DEVICE's GPU (models.device)
    return processor, model, getattr(model.config, "_commit_hash", None) or snapshot_commit(repo, revision)
