"""The IDX file format of MNIST and Fashion-MNIST, gzipped or raw, with clear errors.

Format (LeCun et al.): two zero bytes, a type code (0x08 = unsigned byte), the number of
dimensions, then one big-endian uint32 per dimension, then the data in C order.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np


class DataError(ValueError):
    """A data file is missing, truncated, corrupt, or not the expected file."""


_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_bytes(path: str | os.PathLike) -> bytes:
    """The content of an IDX file, decompressed if it is gzipped (detected by its magic bytes)."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise DataError(
            f"{path} is a damaged gzip file ({exc}); delete it and load again to download a fresh copy"
        ) from exc


def parse(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes into an array.

    Args:
        data: the (decompressed) bytes of the file.
        name: the file name, used in error messages.

    Example:
        >>> import numpy as np
        >>> parse(b"\\x00\\x00\\x08\\x01" + (3).to_bytes(4, "big") + bytes([7, 8, 9])).tolist()
        [7, 8, 9]
    """
    if len(data) < 4:
        raise DataError(f"{name} is truncated: {len(data)} bytes, too short for an IDX header")
    if data[0] != 0 or data[1] != 0 or data[2] not in _TYPES:
        raise DataError(
            f"{name} is not an IDX file: magic number {data[:4].hex()} (expected 0000 then a type code "
            "such as 08); check that the right file is in place"
        )
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise DataError(f"{name} is truncated inside its header ({len(data)} bytes)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_TYPES[data[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        kind = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(
            f"{name} is {kind}: {len(data):,} bytes where shape {shape} needs {expected:,}; "
            "delete it and load again to download a fresh copy"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="), copy=False)


def load(path: str | os.PathLike, sha256: str | None = None) -> np.ndarray:
    """Read and parse one IDX file, optionally checking the sha256 of its decompressed content."""
    data = read_bytes(path)
    if sha256 is not None:
        got = hashlib.sha256(data).hexdigest()
        if got != sha256:
            raise DataError(
                f"{path} has sha256 {got[:12]}… but the original file has {sha256[:12]}…; it is corrupt or a "
                "different file: delete it and load again to download a fresh copy"
            )
    return parse(data, name=str(path))


# ---------------------------------------------------------------------- datasets of IDX files
PARTS = ("train_images", "train_labels", "test_images", "test_labels")
_STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _candidates(folder: Path, stem: str) -> list[Path]:
    # The original names, gzipped or not, and the dotted variant some re-distributions use.
    dotted = stem.replace("-idx", ".idx")
    return [folder / n for n in (f"{stem}.gz", stem, f"{dotted}.gz", dotted)]


def find_file(folder: Path, part: str) -> Path | None:
    """The file of one part (``train_images`` ...) inside ``folder``, or None."""
    return next((p for p in _candidates(folder, _STEMS[part]) if p.is_file()), None)


def load_dataset(
    name: str,
    folders: list[Path],
    cache: Path,
    mirrors: list[str],
    sha256: dict[str, tuple[str | None, str]],
    *,
    download: bool = True,
    verify: bool = True,
    progress: bool = True,
):
    """Load the four IDX files of a dataset from the first folder that has them, else download.

    ``sha256[part]`` is (sha256 of the gzipped file as served or None, sha256 of its content).
    A downloaded file whose content does not match is deleted before the error is raised.
    Returns ``((train_x, train_y), (test_x, test_y))``.
    """
    from ..io.http import download as fetch

    folder = next((f for f in folders if all(find_file(f, p) for p in PARTS)), None)
    if folder is None and all(find_file(cache, p) for p in PARTS):
        folder = cache
    if folder is None:
        partial = [f for f in folders if any(find_file(f, p) for p in PARTS)]
        if partial:
            missing = [_STEMS[p] for p in PARTS if not find_file(partial[0], p)]
            raise DataError(f"{partial[0]} holds only part of {name}: missing {', '.join(missing)}(.gz)")
        if not download:
            where = ", ".join(str(f) for f in [*folders, cache])
            raise DataError(f"{name} not found in {where}; pass the folder that holds its IDX files, or allow download")
        for part in PARTS:
            gz_name = f"{_STEMS[part]}.gz"
            if find_file(cache, part) is None:
                fetched = fetch(
                    [m.rstrip("/") + "/" + gz_name for m in mirrors],
                    cache / gz_name,
                    sha256=sha256[part][0],
                    progress=progress,
                    what=f"{name} {gz_name}",
                )
                try:
                    load(fetched, sha256[part][1])
                except DataError:
                    fetched.unlink()
                    raise
        folder = cache
    arrays = [load(find_file(folder, p), sha256[p][1] if verify else None) for p in PARTS]
    train_x, train_y, test_x, test_y = arrays
    for x, y, split in ((train_x, train_y, "train"), (test_x, test_y, "test")):
        if len(x) != len(y):
            raise DataError(f"{name} {split} in {folder}: {len(x)} images but {len(y)} labels")
    return (train_x, train_y), (test_x, test_y)
