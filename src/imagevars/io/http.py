"""The one HTTP getter: retries with backoff, a size cap, a progress bar, sha256, atomic files.

Two callers, one mechanism: :func:`fetch` gives an image URL's bytes to the pipeline (cached
under ``$IMAGEVARS_HOME/urls``; failures become the URL's error row), :func:`download` puts
weights and datasets into the cache from the first of their mirrors that works (refused when
offline; a file appears only once complete and verified).
"""

from __future__ import annotations

import hashlib
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from .._env import home, offline
from .._version import __version__
from .decode import DecodeError
from .files import atomic_write
from .redact import redact, split_userinfo


class DownloadError(RuntimeError):
    """A file could not be downloaded from any of its addresses."""


class ChecksumError(ValueError):
    """A file's sha256 does not match the expected value."""


class GetError(OSError):
    """An address gave no usable answer; the message says why (HTTP status, network error, size)."""


class _ShortBody(ConnectionError):
    """The connection ended before the body the server announced (tried again)."""


def get(
    url: str,
    dest: str | os.PathLike | None = None,
    *,
    timeout: float = 20.0,
    retries: int = 2,
    max_bytes: int | None = None,
    sha256: str | None = None,
    progress: bool = False,
    what: str | None = None,
    deadline: float | None = None,
) -> bytes | Path:
    """The body at ``url``: bytes, or with ``dest`` a file written atomically. Raises :class:`GetError`.

    Network errors, timeouts, 5xx answers and bodies cut short of their Content-Length are tried
    again ``retries`` times with backoff (0.5 s, 1 s, ...); 4xx answers are final. ``timeout``
    bounds each wait for the server, ``deadline`` each try as a whole (a server that drips one
    byte at a time never trips a per-read timeout). A body over ``max_bytes`` is refused; with
    ``sha256`` the body must have that digest (:class:`ChecksumError` otherwise).

    Example:
        >>> get("https://example.org/photo.jpg", timeout=5, max_bytes=10_000_000)  # doctest: +SKIP
    """
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(0.5 * 2 ** (attempt - 1))
        try:
            return _get_once(
                url,
                dest,
                timeout=timeout,
                max_bytes=max_bytes,
                sha256=sha256,
                progress=progress,
                what=what or redact(url),
                deadline=deadline,
            )
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code} {exc.reason}"
            if exc.code < 500:
                raise GetError(last) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, _ShortBody) as exc:
            last = str(getattr(exc, "reason", exc)) or type(exc).__name__
    raise GetError(last if retries == 0 else f"{last} (after {retries + 1} tries)")


def _get_once(
    url: str,
    dest,
    *,
    timeout: float,
    max_bytes: int | None,
    sha256: str | None,
    progress: bool,
    what: str,
    deadline: float | None,
) -> bytes | Path:
    address, authorization = split_userinfo(url)  # user:password@ goes as basic auth, not in the address
    request = urllib.request.Request(address, headers={"User-Agent": f"imagevars/{__version__}"})
    if authorization:  # never sent on to where a redirect points
        request.add_unredirected_header("Authorization", authorization)
    until = None if deadline is None else time.monotonic() + deadline
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = int(response.headers.get("Content-Length") or 0)
        if max_bytes is not None and length > max_bytes:
            raise GetError(f"{length:,} bytes is over the size cap of {max_bytes:,}")
        copy = dict(
            length=length,
            max_bytes=max_bytes,
            sha256=sha256,
            progress=progress,
            what=what,
            until=until,
            deadline=deadline,
        )
        if dest is None:
            body = bytearray()
            _copy(response, body.extend, **copy)
            return bytes(body)

        def write(tmp: str) -> None:
            with open(tmp, "wb") as out:
                _copy(response, out.write, **copy)

        return atomic_write(dest, write, suffix=".part")


def _copy(
    response,
    write,
    *,
    length: int,
    max_bytes: int | None,
    sha256: str | None,
    progress: bool,
    what: str,
    until: float | None,
    deadline: float | None,
) -> None:
    """Stream the body into ``write`` in 64 KiB blocks: under the size cap and the deadline, whole, with its sha256."""
    from tqdm.auto import tqdm

    h, size = hashlib.sha256(), 0
    with tqdm(total=length or None, unit="B", unit_scale=True, desc=what, disable=not progress, leave=False) as bar:
        while block := response.read1(1 << 16):
            size += len(block)
            if max_bytes is not None and size > max_bytes:
                raise GetError(f"more than the size cap of {max_bytes:,} bytes")
            if until is not None and time.monotonic() > until:
                raise GetError(f"not done after the deadline of {deadline:g} s ({size:,} bytes so far)")
            write(block)
            h.update(block)
            bar.update(len(block))
    if length and size < length:
        raise _ShortBody(f"the connection ended after {size:,} of {length:,} bytes")
    if sha256 is not None and h.hexdigest() != sha256.lower():
        raise ChecksumError(f"sha256 {h.hexdigest()} does not match the expected {sha256}")


def cache_file(url: str, cache: str | os.PathLike | None = None) -> Path:
    """Where a URL's bytes are cached: ``$IMAGEVARS_HOME/urls/<sha256 of the URL>``."""
    root = Path(cache) if cache else home() / "urls"
    digest = hashlib.sha256(url.encode()).hexdigest()
    return root / digest[:2] / digest


def fetch(
    url: str,
    timeout: float = 20.0,
    retries: int = 2,
    max_bytes: int = 50_000_000,
    cache: str | os.PathLike | None | bool = None,
    deadline: float = 120.0,
) -> bytes:
    """The bytes at ``url``, from the cache if there; raises :class:`DecodeError` naming the URL (its secrets
    written as ``***``: :func:`imagevars.io.redact.redact`). A ``user:password@`` in the URL is sent as basic
    authentication.

    Network errors, timeouts, 5xx answers and cut bodies are retried ``retries`` times with
    backoff; 4xx answers are final. A body over ``max_bytes`` is refused, and so is a try that
    takes longer than ``deadline`` seconds. Only a body that is an image is cached (an error
    page served with status 200 is not). ``cache=False`` turns the cache off.

    Example:
        >>> fetch("https://example.org/photo.jpg", timeout=5)  # doctest: +SKIP
    """
    if cache is False:
        path = None  # no cache
    else:  # None or True: the default cache folder; a path: that folder
        path = cache_file(url, None if cache is None or cache is True else cache)
    if path is not None and path.exists():
        return path.read_bytes()
    try:
        data = get(url, timeout=timeout, retries=retries, max_bytes=max_bytes, deadline=deadline)
    except GetError as exc:
        raise DecodeError(f"{redact(url)}: {exc}") from None
    if path is not None:
        from .decode import decode

        decode(data, url, max_side=256)  # raises DecodeError: what does not decode is not kept
        atomic_write(path, lambda tmp: Path(tmp).write_bytes(data), suffix=".part")
    return data


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
            f"HF_HUB_OFFLINE is set). Unset it to download from {redact(urls[0])}, or place the file at {dest}."
        )
    failures = []
    for url in urls:
        try:
            return get(url, dest, sha256=sha256, progress=progress, timeout=timeout, retries=0, what=what)
        except (GetError, ChecksumError, OSError) as exc:
            failures.append(f"  {redact(url)}: {exc}")
    raise DownloadError(f"could not download {what}; tried:\n" + "\n".join(failures))
