"""Which weights made the rows: the sha256 of a model folder's weight files, for models that ship no card digest.

A registered model's card carries its weights' sha256. A local Hugging Face folder (``hf:DIR``) or a hub
snapshot does not: :func:`folder_sha256` hashes the weight files in it (safetensors, PyTorch, ONNX, GGUF ...),
each once per process (kept by path, size and modification time), and combines them, with their names, into
one digest. The provenance records it as the task's ``weights_sha256``, and a resumed run compares it: rows
made by other weights are never kept under one recorded hash.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..io.files import sha256_file

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".onnx", ".pt", ".pth", ".gguf", ".msgpack", ".h5", ".ckpt")
_FILES: dict[tuple[str, int, int], str] = {}  # (real path, size, mtime in ns) -> sha256


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of one file, computed once per process while its size and modification time stay the same."""
    real = os.path.realpath(path)  # a hub snapshot's files are links into its blob store
    st = os.stat(real)
    key = (real, st.st_size, st.st_mtime_ns)
    if key not in _FILES:
        _FILES[key] = sha256_file(real)
    return _FILES[key]


def folder_sha256(folder: str | os.PathLike) -> str | None:
    """One sha256 over the weight files under ``folder`` (their relative names and digests); None if none.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()); _ = (d / "model.safetensors").write_bytes(b"w")
        >>> folder_sha256(d) == hashlib.sha256(f"model.safetensors {hashlib.sha256(b'w').hexdigest()}\\n".encode()).hexdigest()
        True
    """
    root = Path(folder)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in WEIGHT_SUFFIXES and p.is_file())
    if not files:
        return None
    lines = "".join(f"{p.relative_to(root).as_posix()} {file_sha256(p)}\n" for p in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def hub_sha256(repo: str, revision: str | None = None) -> str | None:
    """:func:`folder_sha256` of a local folder, or of the cached hub snapshot of ``repo`` at ``revision``
    (None when it is not cached: nothing to hash)."""
    from .hub import snapshot_folder

    folder = repo if Path(repo).is_dir() else snapshot_folder(repo, revision)
    return None if folder is None else folder_sha256(folder)
