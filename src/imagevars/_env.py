"""Where imagevars keeps things, whether it may download, how many threads it uses, how it starts workers.

All come from environment variables so that notebooks, the command line and cluster jobs
behave the same (and so that worker processes, however started, see the same settings):

- ``IMAGEVARS_HOME``: cache for weights and datasets (default ``~/.cache/imagevars``).
- ``IMAGEVARS_DATA``: a folder that already holds datasets (searched before the cache).
- ``IMAGEVARS_OFFLINE=1`` (or ``HF_HUB_OFFLINE=1``): never download; a missing file is an error.
- ``IMAGEVARS_THREADS``: intra-op threads for PyTorch/ONNX Runtime (default: usable cores).
- ``IMAGEVARS_START_METHOD``: how the local engine starts its worker processes (``fork``,
  ``forkserver`` or ``spawn``; default :func:`start_method`'s choice).
"""

from __future__ import annotations

import os
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
START_METHODS = ("forkserver", "spawn", "fork")
SETTINGS_PREFIXES = ("IMAGEVARS_", "HF_", "HUGGINGFACE_", "TRANSFORMERS_")  # what worker processes are handed


def home() -> Path:
    """The cache folder, ``$IMAGEVARS_HOME`` or ``~/.cache/imagevars``.

    Example:
        >>> from imagevars._env import home
        >>> home().name in {"imagevars"} or "IMAGEVARS_HOME" in __import__("os").environ
        True
    """
    env = os.environ.get("IMAGEVARS_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "imagevars"


def data_dir() -> Path | None:
    """The user's data folder from ``$IMAGEVARS_DATA``, or None."""
    env = os.environ.get("IMAGEVARS_DATA")
    return Path(env).expanduser() if env else None


def offline() -> bool:
    """True when downloads are forbidden (``IMAGEVARS_OFFLINE`` or ``HF_HUB_OFFLINE``)."""
    return any(os.environ.get(k, "").strip().lower() in _TRUE for k in ("IMAGEVARS_OFFLINE", "HF_HUB_OFFLINE"))


def threads() -> int:
    """Threads for one compute library: ``$IMAGEVARS_THREADS`` or the cores this process may use.

    Set on purpose: two-thread libraries that share the cores with other busy work were seen
    to slow down eightfold, so a user running two jobs side by side should lower this.
    """
    env = os.environ.get("IMAGEVARS_THREADS")
    if env:
        n = int(env)
        if n < 1:
            raise ValueError(f"IMAGEVARS_THREADS must be a positive integer, got {env!r}")
        return n
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS/Windows
        return max(1, os.cpu_count() or 1)


def available_memory() -> int | None:
    """Bytes this process may still use: the kernel's estimate of available memory (``MemAvailable``),
    lowered to what a cgroup v2 limit leaves (a Slurm job's ``--mem``, a container); None where unknown.

    Example:
        >>> m = available_memory()
        >>> m is None or m > 0
        True
    """
    free = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError):
        return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max" and free is not None:
            used = int(Path("/sys/fs/cgroup/memory.current").read_text())
            free = min(free, max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    return free


def start_method() -> str:
    """How the local engine starts worker processes: ``$IMAGEVARS_START_METHOD``, else ``forkserver`` on Linux
    and ``spawn`` elsewhere.

    Chosen on purpose, not left to the platform's default (which is ``fork`` on Linux before Python 3.14,
    ``forkserver`` from 3.14, ``spawn`` on macOS and Windows): a forked child of a process that already
    runs threads (PyTorch's, ONNX Runtime's, a progress bar's) can deadlock, so imagevars forks its
    workers from a small fork server instead, the way Python 3.14 does by default. On macOS and Windows,
    where forking is unsafe or missing, workers are spawned. Either way a script that starts a run must
    keep its top-level code under ``if __name__ == "__main__":``; notebooks need nothing.
    ``IMAGEVARS_START_METHOD=fork`` brings back the old behaviour on Linux.

    Example:
        >>> start_method() in START_METHODS
        True
    """
    import multiprocessing
    import sys

    env = os.environ.get("IMAGEVARS_START_METHOD", "").strip().lower()
    available = multiprocessing.get_all_start_methods()
    if env:
        if env not in available:
            raise ValueError(
                f"IMAGEVARS_START_METHOD={env!r}: use one of {', '.join(m for m in START_METHODS if m in available)}"
            )
        return env
    return "forkserver" if sys.platform.startswith("linux") and "forkserver" in available else "spawn"


def settings() -> dict[str, str]:
    """The environment variables that configure imagevars and the hub libraries it drives, as set now:
    handed to every worker process, so a setting changed after a fork server started still reaches them.

    Example:
        >>> os.environ["IMAGEVARS_DOC_SETTING"] = "1"
        >>> settings()["IMAGEVARS_DOC_SETTING"]
        '1'
        >>> del os.environ["IMAGEVARS_DOC_SETTING"]
    """
    return {k: v for k, v in os.environ.items() if k.startswith(SETTINGS_PREFIXES)}
