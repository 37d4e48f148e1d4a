"""Files replaced whole or not at all, and their sha256.

Every file imagevars writes in place of another (tables, part files, PNGs, weights, ONNX
exports, search indexes, videos) goes through :func:`atomic_write`, so a crash or a second
process never leaves half a file where a whole one is expected.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | os.PathLike, write: Callable[[str], object], *, suffix: str = ".tmp") -> Path:
    """Call ``write(tmp_name)``, then rename the result to ``path``: no partial file on failure.

    The temporary file is unique to this call (two writers never share one) and lies in the
    same folder, so the rename is atomic; ``suffix`` ends its name (``".tmp.npy"`` for writers
    that insist on an extension). Parent folders are created.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "sub" / "a.txt"
        >>> atomic_write(target, lambda tmp: pathlib.Path(tmp).write_text("whole")).read_text()
        'whole'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file, read in chunks.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"; _ = p.write_bytes(b"abc")
        >>> sha256_file(p)[:12]
        'ba7816bf8f01'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def save_figure(fig, path: str | os.PathLike, **savefig: object) -> Path:
    """Write a matplotlib figure to ``path`` atomically (the format from its extension), then close it.

    Example:
        >>> from imagevars._extras import pyplot
        >>> import tempfile, pathlib
        >>> fig = pyplot().figure()
        >>> save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "f.png").suffix  # doctest: +SKIP
        '.png'
    """
    import matplotlib.pyplot as plt

    path = Path(path)
    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, **savefig), suffix=".tmp" + path.suffix)
    finally:
        plt.close(fig)


def read_yaml(path: str | os.PathLike):
    """A YAML file's content with YAML 1.2's booleans (only true and false): ``answers: [yes, no]`` stays the
    two words, where PyYAML's YAML 1.1 rules would make them True and False.

    Example:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "c.yaml"; _ = f.write_text("answers: [yes, no, on]\\nfree: true\\n")
        >>> read_yaml(f)
        {'answers': ['yes', 'no', 'on'], 'free': True}
    """
    import re

    from .._extras import require

    yaml = require("yaml", f"reading {path}")

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        k: [r for r in v if r[0] != "tag:yaml.org,2002:bool"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=Loader)
