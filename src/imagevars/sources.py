"""Where images come from: folders, globs, lists of paths, CSV/Parquet manifests and URLs.

Every input becomes a stream of :class:`Item`: the ``source`` string exactly as the user gave
it (what the results table is keyed by), where to read it, and the manifest columns to carry.
Folders are walked recursively in sorted order without holding the whole listing in memory.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from .decode import IMAGE_EXTENSIONS, read_file

_PATH_COLUMNS = ("path", "image", "image_path", "file", "filename", "url", "image_url")


@dataclass(frozen=True)
class Item:
    index: int  # position in the input order
    source: str  # as given: path, URL or manifest value
    extra: tuple = ()  # values of the kept manifest columns


def is_url(s: str) -> bool:
    return s.startswith(("http://", "https://"))


def read_source(source: str, fetch_options: dict[str, Any] | None = None) -> bytes:
    """The bytes of a local file or a URL (fetched with ``fetch_options``: timeout, retries, ...).

    Raises :class:`~imagevars.decode.DecodeError` naming ``source`` when it cannot be read.
    """
    if is_url(source):
        from .fetch import fetch

        return fetch(source, **(fetch_options or {}))
    return read_file(source)


@dataclass
class Source:
    """A resolved input: a way to iterate its items (twice if need be), and what it carries."""

    description: str
    keep: tuple[str, ...]
    _iter: Any
    _count: Any
    types: dict[str, Any] = field(default_factory=dict)  # pyarrow types of kept manifest columns

    def __iter__(self) -> Iterator[Item]:
        for i, (source, extra) in enumerate(self._iter()):
            yield Item(i, source, extra)

    def count(self) -> int:
        """How many items (walks folders again rather than keeping the listing)."""
        return self._count()


def walk(folder: Path, extensions=IMAGE_EXTENSIONS) -> Iterator[str]:
    """Image files under ``folder``, recursively, in sorted path order, streamed."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except PermissionError:
        return
    for e in entries:
        if e.name.startswith("."):
            continue
        if e.is_dir(follow_symlinks=False):
            yield from walk(Path(e.path), extensions)
        elif os.path.splitext(e.name)[1].lower() in extensions:
            yield e.path


def resolve(
    spec: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    path_column: str | None = None,
    keep: Sequence[str] = (),
) -> Source:
    """Turn what the user pointed at into a :class:`Source`.

    Args:
        spec: a folder, a glob (``photos/**/*.jpg``), an image file, a URL, a ``.txt`` file with
            one path or URL per line, a ``.csv``/``.parquet`` manifest, or a list of paths/URLs.
        path_column: the manifest column holding paths or URLs (default: the first of
            ``path``, ``image``, ``file``, ``url`` ... that exists).
        keep: manifest columns to carry into the results unchanged.

    Example:
        >>> src = resolve(["a.jpg", "https://example.org/b.png"])
        >>> [item.source for item in src]
        ['a.jpg', 'https://example.org/b.png']
    """
    keep = tuple(keep)
    if not isinstance(spec, (str, os.PathLike)):
        items = [os.fspath(s) for s in spec]
        return _fixed(f"{len(items)} given paths", items, keep)
    text = os.fspath(spec)
    if is_url(text):
        return _fixed(text, [text], keep)
    path = Path(text)
    if path.is_dir():
        return Source(f"folder {text}", keep, lambda: ((p, ()) for p in walk(path)), lambda: sum(1 for _ in walk(path)))
    suffix = path.suffix.lower()
    if path.is_file() and suffix in (".csv", ".parquet", ".pq", ".tsv"):
        return _manifest(path, path_column, keep)
    if path.is_file() and suffix in (".txt", ".lst"):
        lines = [ln.strip() for ln in path.read_text().splitlines()]
        return _fixed(f"list {text}", [ln for ln in lines if ln and not ln.startswith("#")], keep)
    if path.is_file():
        return _fixed(text, [text], keep)
    if glob.has_magic(text):
        return Source(f"glob {text}", keep, lambda: ((p, ()) for p in sorted(glob.iglob(text, recursive=True))
                                                      if os.path.isfile(p)),
                      lambda: sum(1 for p in glob.iglob(text, recursive=True) if os.path.isfile(p)))
    raise FileNotFoundError(
        f"{text} does not exist; pass a folder, a glob such as 'photos/**/*.jpg', an image, a URL, "
        "a .txt list of paths, or a .csv/.parquet manifest"
    )


def _fixed(description: str, items: list[str], keep: tuple[str, ...]) -> Source:
    if keep:
        raise ValueError("keep=... needs a CSV or Parquet manifest with those columns")
    return Source(description, (), lambda: ((s, ()) for s in items), lambda: len(items))


def _manifest(path: Path, path_column: str | None, keep: tuple[str, ...]) -> Source:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    if path.suffix.lower() in (".parquet", ".pq"):
        table = pq.read_table(path)
    else:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        table = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=delimiter),
                              convert_options=pcsv.ConvertOptions(strings_can_be_null=False))
    names = table.column_names
    column = path_column or next((c for c in _PATH_COLUMNS if c in names), None)
    if column is None or column not in names:
        raise ValueError(
            f"{path} has no column {path_column!r}" if path_column else
            f"{path} has none of the usual path columns ({', '.join(_PATH_COLUMNS)}); name one with --path-column"
        )
    missing = [k for k in keep if k not in names]
    if missing:
        raise ValueError(f"{path} has no column(s) {', '.join(missing)} to keep; it has {', '.join(names)}")
    sources = table.column(column).to_pylist()
    kept = [table.column(k).to_pylist() for k in keep]
    rows = [("" if s is None else str(s), tuple(col[i] for col in kept)) for i, s in enumerate(sources)]
    types = {k: table.schema.field(k).type for k in keep}
    return Source(f"manifest {path} (column {column})", keep, lambda: iter(rows), lambda: len(rows), types)
