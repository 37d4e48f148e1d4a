"""Where images come from: folders, globs, lists of paths, CSV/Parquet manifests and URLs.

Every input becomes a stream of :class:`Item`: the ``source`` string exactly as the user gave
it (what the results table is keyed by), where to read it, and the manifest columns to carry.
Folders are walked recursively in sorted order without holding the whole listing in memory.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .decode import IMAGE_EXTENSIONS, read_file

PATH_COLUMNS = ("path", "image", "image_path", "file", "filename", "url", "image_url")


@dataclass(frozen=True)
class Item:
    index: int  # position in the input order
    source: str  # as given: path, URL or manifest value (text: see printable())
    extra: tuple = ()  # values of the kept manifest columns
    span: tuple[float, float] | None = None  # for a video: the [start, end) seconds this item covers
    key: str = ""  # what the item is, whatever its position: see item_key()
    path: str = ""  # where to read it (the file name as the OS gave it); default: source

    def __post_init__(self):
        if not self.path:
            object.__setattr__(self, "path", self.source)
        if not self.key:
            object.__setattr__(self, "key", item_key(self.source, 0, self.span))


def item_key(source: str, occurrence: int, span: tuple[float, float] | None) -> str:
    """An item's identity for resuming: which source, which time it appears in the input, which video segment.

    Example:
        >>> item_key("a.jpg", 0, None), item_key("clip.mp4", 0, (30.0, 60.0)), item_key("a.jpg", 1, None)
        ('0||a.jpg', '0|30.0|clip.mp4', '1||a.jpg')
    """
    return f"{occurrence}|{'' if span is None else span[0]}|{source}"


def printable(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (Python keeps them as surrogates) written as ``\\xNN``.

    File systems allow any bytes but NUL and ``/`` in a name; the table holds UTF-8 text. Such a
    name is written with each bad byte as a backslash escape, and :func:`locate` finds the file
    from that text again, so the ``source`` column can be fed back as a list or manifest.

    Example:
        >>> import os
        >>> printable(os.fsdecode(b"bad\\xffname.jpg"))
        'bad\\\\xffname.jpg'
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def locate(source: str) -> str:
    """The OS file name for a ``source`` written by :func:`printable` (the text itself when that exists)."""
    if "\\x" not in source or os.path.exists(source):
        return source
    import codecs

    raw = codecs.escape_decode(source.encode("utf-8"))[0]
    candidate = os.fsdecode(raw)
    return candidate if os.path.exists(candidate) else source


def is_url(s: str) -> bool:
    """Whether ``s`` is a web address (the scheme in any case: ``HTTP://`` too).

    Example:
        >>> is_url("HTTPS://example.org/a.jpg"), is_url("photos/http.jpg")
        (True, False)
    """
    return s[:8].lower().startswith(("http://", "https://"))


def read_source(source: str, fetch_options: dict[str, Any] | None = None) -> bytes:
    """The bytes of a local file or a URL (fetched with ``fetch_options``: timeout, retries, ...).

    Raises :class:`~imagevars.io.decode.DecodeError` naming ``source`` when it cannot be read.
    """
    if is_url(source):
        from .http import fetch

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

    video_segment_s: float | None = None  # set by with_videos(): videos become items of this many seconds

    unique: bool = False  # sources cannot repeat (a folder walk, a glob): no need to count occurrences

    def __iter__(self) -> Iterator[Item]:
        i, seen = 0, {}
        for raw, extra in self._iter():
            source = printable(raw)
            path = raw if source != raw else locate(raw)
            occurrence = 0
            if not self.unique:  # a manifest may list one file twice: each is its own item
                occurrence = seen[source] = seen.get(source, -1) + 1
            for span in self._spans(path):
                yield Item(i, source, extra, span, item_key(source, occurrence, span), path)
                i += 1

    def count(self) -> int:
        """How many items (walks folders again rather than keeping the listing)."""
        if self.video_segment_s is None:
            return self._count()
        return sum(len(self._spans(source)) for source, _ in self._iter())

    def fingerprint(self) -> tuple[int, str]:
        """How many items, and the sha256 of their keys in order: equal exactly when the items are."""
        import hashlib

        h, n = hashlib.sha256(), 0
        for item in self:
            h.update(item.key.encode("utf-8") + b"\0")
            n += 1
        return n, h.hexdigest()

    def with_videos(self, segment_s: float = 60.0) -> Source:
        """The same source with each video split into items of ``segment_s`` seconds of footage.

        Items of one video are measured independently (and resumed independently), so a long
        video streams through in constant memory.
        """
        if segment_s <= 0:
            raise ValueError(f"segment_s must be positive, got {segment_s}")
        self.video_segment_s = segment_s
        return self

    def _spans(self, source: str) -> list[tuple[float, float] | None]:
        from .video import duration_s, is_video

        if self.video_segment_s is None or not is_video(source):
            return [None]
        try:
            duration = duration_s(source)  # the header only: the worker decodes
        except Exception:  # noqa: BLE001 (the worker reports why, as an error row)
            return [(0.0, float("inf"))]
        n = max(1, int(-(-duration // self.video_segment_s)))
        return [
            (k * self.video_segment_s, float("inf") if k == n - 1 else (k + 1) * self.video_segment_s) for k in range(n)
        ]


def walk(
    folder: Path, extensions=IMAGE_EXTENSIONS, _seen: set | None = None, depth: int | None = None
) -> Iterator[str]:
    """Image files (or the given extensions; None: all files) under ``folder``, recursively, sorted, streamed.

    Symbolic links are followed, to folders and files alike, but each real folder is entered and
    each real file given once: a link back up the tree (a loop) or a second way to the same file
    adds nothing. Hidden names (starting with ``.``) are skipped. ``depth``: how many levels of
    subfolders to enter (None: all).
    """
    seen = _seen if _seen is not None else set()
    try:
        here = os.stat(folder)
        if (here.st_dev, here.st_ino, "dir") in seen:
            return
        seen.add((here.st_dev, here.st_ino, "dir"))
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except PermissionError:  # one row says so (read_file explains), instead of images silently missing
        yield str(folder)
        return
    except FileNotFoundError:  # a dangling link
        return
    for e in entries:
        if e.name.startswith("."):
            continue
        try:
            is_dir = e.is_dir()  # follows a link
        except OSError:
            continue
        if is_dir:
            if depth is None or depth > 0:
                yield from walk(Path(e.path), extensions, seen, None if depth is None else depth - 1)
        elif extensions is None or os.path.splitext(e.name)[1].lower() in extensions:
            key = _file_key(e, here.st_dev)
            if key is None or key not in seen:  # None: a dangling link, whose row says why
                seen.add(key)
                yield e.path


def _file_key(entry: os.DirEntry, folder_device: int) -> int | None:
    """The real file behind a folder entry as one int (device, inode): exact, and small to keep.

    A plain file costs no system call (its inode comes with the listing, its device is the
    folder's); a link is followed (one stat), and a dangling one gives None.
    """
    if entry.is_symlink():
        try:
            st = os.stat(entry.path)
        except OSError:
            return None
        return (st.st_dev << 64) | st.st_ino
    return (folder_device << 64) | entry.inode()


def _glob(pattern: str) -> Iterator[str]:
    """Files matching ``pattern`` (``**``: any number of folders), sorted, each real file once.

    The folders are walked by :func:`walk`, so a glob follows links by the same rule and a loop
    of links is entered once (the standard library's glob descends a loop until the path is too
    long: ten files gave 410 rows). Hidden names are skipped, as glob does.
    """
    parts = Path(pattern).parts
    fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    base = Path(*parts[:fixed]) if fixed else Path(".")
    rest = parts[fixed:]
    if not base.is_dir():
        return
    for path in walk(base, None, depth=None if "**" in rest else len(rest) - 1):
        if not fixed and path.startswith("./"):
            path = path[2:]  # as glob gives it: `*.jpg` -> `a.jpg`
        relative = Path(path).relative_to(base).parts if fixed else Path(path).parts
        if _matches(list(relative), list(rest)):
            yield path


def _matches(names: list[str], pattern: list[str]) -> bool:
    """Whether path components ``names`` match glob components ``pattern`` (``**`` matches zero or more)."""
    import fnmatch

    if not pattern:
        return not names
    if pattern[0] == "**":
        return any(_matches(names[k:], pattern[1:]) for k in range(len(names) + 1))
    return bool(names) and fnmatch.fnmatchcase(names[0], pattern[0]) and _matches(names[1:], pattern[1:])


def resolve(
    spec: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    path_column: str | None = None,
    keep: Sequence[str] = (),
    videos: bool = False,
) -> Source:
    """Turn what the user pointed at into a :class:`Source`.

    Args:
        spec: a folder, a glob (``photos/**/*.jpg``), an image file, a URL, a ``.txt`` file with
            one path or URL per line, a ``.csv``/``.parquet`` manifest, or a list of paths/URLs.
        path_column: the manifest column holding paths or URLs (default: the first of
            ``path``, ``image``, ``file``, ``url`` ... that exists).
        keep: manifest columns to carry into the results unchanged.
        videos: folders yield video files too (see :meth:`Source.with_videos`).

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
        from .video import VIDEO_EXTENSIONS

        ext = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS if videos else IMAGE_EXTENSIONS
        _no_keep(keep, f"{text} is a folder")
        return Source(
            f"folder {text}",
            (),
            lambda: ((p, ()) for p in walk(path, ext)),
            lambda: sum(1 for _ in walk(path, ext)),
            unique=True,
        )
    suffix = path.suffix.lower()
    if path.is_file() and suffix in (".csv", ".parquet", ".pq", ".tsv"):
        return _manifest(path, path_column, keep)
    if path.is_file() and suffix in (".txt", ".lst"):
        lines = [ln.strip() for ln in path.read_text().splitlines()]
        return _fixed(f"list {text}", [ln for ln in lines if ln and not ln.startswith("#")], keep)
    if path.is_file():
        return _fixed(text, [text], keep)
    if glob.has_magic(text):
        _no_keep(keep, f"{text} is a glob")
        return Source(
            f"glob {text}", (), lambda: ((p, ()) for p in _glob(text)), lambda: sum(1 for _ in _glob(text)), unique=True
        )
    raise FileNotFoundError(
        f"{text} does not exist; pass a folder, a glob such as 'photos/**/*.jpg', an image, a URL, "
        "a .txt list of paths, or a .csv/.parquet manifest"
    )


def _no_keep(keep: tuple[str, ...], what: str) -> None:
    if keep:
        raise ValueError(
            f"{what}: keep={list(keep)} (--keep) carries columns of a CSV or Parquet manifest; "
            "measure a manifest with those columns, or leave --keep out"
        )


def _fixed(description: str, items: list[str], keep: tuple[str, ...]) -> Source:
    _no_keep(keep, description)
    return Source(description, (), lambda: ((s, ()) for s in items), lambda: len(items))


def _manifest(path: Path, path_column: str | None, keep: tuple[str, ...]) -> Source:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    if path.suffix.lower() in (".parquet", ".pq"):
        table = pq.read_table(path)
    else:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        table = pcsv.read_csv(
            path,
            parse_options=pcsv.ParseOptions(delimiter=delimiter),
            convert_options=pcsv.ConvertOptions(strings_can_be_null=False),
        )
    names = table.column_names
    column = path_column or next((c for c in PATH_COLUMNS if c in names), None)
    if column is None or column not in names:
        raise ValueError(
            f"{path} has no column {path_column!r}"
            if path_column
            else f"{path} has none of the usual path columns ({', '.join(PATH_COLUMNS)}); name one with --path-column"
        )
    missing = [k for k in keep if k not in names]
    if missing:
        raise ValueError(f"{path} has no column(s) {', '.join(missing)} to keep; it has {', '.join(names)}")
    sources = table.column(column).to_pylist()
    kept = [table.column(k).to_pylist() for k in keep]
    rows = [("" if s is None else str(s), tuple(col[i] for col in kept)) for i, s in enumerate(sources)]
    types = {k: table.schema.field(k).type for k in keep}
    return Source(f"manifest {path} (column {column})", keep, lambda: iter(rows), lambda: len(rows), types)
