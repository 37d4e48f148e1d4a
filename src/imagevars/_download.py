"""Downloading files into the cache: progress bar, atomic rename, sha256 check, mirrors."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Sequence

from . import __version__ as _version
from ._env import offline


class DownloadError(RuntimeError):
    """A file could not be downloaded from any of its addresses."""


class ChecksumError(ValueError):
    """A file's sha256 does not match the expected value."""


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


def download(
    urls: str | Sequence[str],
    dest: str | os.PathLike,
    *,
    sha256: str | None = None,
    progress: bool = True,
    timeout: float = 30.0,
    what: str | None = None,
) -> Path:
    """Download the first address that works to ``dest``, atomically, checking its sha256.

    Each address is tried in turn; a network error or a checksum mismatch moves on to the next.
    The file appears at ``dest`` only once complete and verified, so an interrupted download
    never leaves a partial file behind.

    Args:
        urls: one address or several mirrors of the same file.
        dest: where the file goes; parent folders are created.
        sha256: expected hex digest of the file as downloaded; None skips the check.
        progress: show a tqdm progress bar.
        timeout: seconds to wait for the server on each read.
        what: a name for the file in messages (defaults to the file name).

    Example:
        >>> download("https://example.org/a.bin", "/tmp/a.bin", sha256="...")  # doctest: +SKIP
    """
    dest = Path(dest)
    urls = [urls] if isinstance(urls, str) else list(urls)
    what = what or dest.name
    if offline():
        raise DownloadError(
            f"{what} is not on this machine and downloads are off (IMAGEVARS_OFFLINE or "
            f"HF_HUB_OFFLINE is set). Unset it to download from {urls[0]}, or place the file at {dest}."
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        try:
            _fetch(url, dest, sha256=sha256, progress=progress, timeout=timeout, what=what)
            return dest
        except (urllib.error.URLError, OSError, ChecksumError) as exc:
            failures.append(f"  {url}: {exc}")
    raise DownloadError(f"could not download {what}; tried:\n" + "\n".join(failures))


def _fetch(url: str, dest: Path, *, sha256: str | None, progress: bool, timeout: float, what: str) -> None:
    from tqdm.auto import tqdm

    request = urllib.request.Request(url, headers={"User-Agent": f"imagevars/{_version}"})
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, os.fdopen(fd, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=what, disable=not progress, leave=False) as bar:
                while block := response.read(1 << 16):
                    out.write(block)
                    h.update(block)
                    bar.update(len(block))
        if sha256 is not None and h.hexdigest() != sha256.lower():
            raise ChecksumError(f"sha256 {h.hexdigest()} does not match the expected {sha256}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
