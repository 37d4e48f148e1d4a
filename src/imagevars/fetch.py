"""Fetching images from URLs for the pipeline: timeouts, retries, a size cap and a local cache."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import __version__
from ._env import home
from .decode import DecodeError


def cache_file(url: str, cache: str | os.PathLike | None = None) -> Path:
    """Where a URL's bytes are cached: ``$IMAGEVARS_HOME/urls/<sha256 of the URL>``."""
    root = Path(cache) if cache else home() / "urls"
    digest = hashlib.sha256(url.encode()).hexdigest()
    return root / digest[:2] / digest


def fetch(url: str, timeout: float = 20.0, retries: int = 2, max_bytes: int = 50_000_000,
          cache: str | os.PathLike | None | bool = None) -> bytes:
    """The bytes at ``url``, from the cache if there; raises :class:`DecodeError` naming the URL.

    Network errors, timeouts and 5xx answers are retried ``retries`` times with backoff; 4xx
    answers are final. A body over ``max_bytes`` is refused. ``cache=False`` turns the cache off.

    Example:
        >>> fetch("https://example.org/photo.jpg", timeout=5)  # doctest: +SKIP
    """
    if cache is False:
        path = None  # no cache
    else:  # None or True: the default cache folder; a path: that folder
        path = cache_file(url, None if cache is None or cache is True else cache)
    if path is not None and path.exists():
        return path.read_bytes()
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(0.5 * 2 ** (attempt - 1))
        try:
            request = urllib.request.Request(url, headers={"User-Agent": f"imagevars/{__version__}"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = int(response.headers.get("Content-Length") or 0)
                if length > max_bytes:
                    raise DecodeError(f"{url}: {length:,} bytes is over the size cap of {max_bytes:,}")
                data = response.read(max_bytes + 1)
                if len(data) > max_bytes:
                    raise DecodeError(f"{url}: more than the size cap of {max_bytes:,} bytes")
            break
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code} {exc.reason}"
            if exc.code < 500:
                raise DecodeError(f"{url}: {last}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            last = str(getattr(exc, "reason", exc)) or type(exc).__name__
    else:
        raise DecodeError(f"{url}: {last} (after {retries + 1} tries)")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    return data
