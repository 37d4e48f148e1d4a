"""What several commands share: thread settings, file names per input, the run summary."""

from __future__ import annotations

import errno
import os

from .._extras import missing_extra


def set_threads(n: int | None) -> None:
    """PyTorch's compute threads: ``n``, else ``$IMAGEVARS_THREADS`` or the usable cores."""
    import torch

    from .._env import threads

    torch.set_num_threads(n or threads())


def numbered(template: str, source: str) -> str:
    """``boxes.jpg`` + ``shoot/cat.png`` -> ``boxes_cat.jpg``: one output file per input.

    Example:
        >>> numbered("out/boxes.mp4", "ads/spot 1.mov")
        'out/boxes_spot 1.mp4'
    """
    stem, ext = os.path.splitext(template)
    return f"{stem}_{os.path.splitext(os.path.basename(source))[0]}{ext or '.jpg'}"


def print_summary(results, output) -> None:
    """Rows measured and resumed, the first errors, and where the table went (or its head)."""
    counts = results.provenance.get("counts", {})
    print(
        f"{len(results):,} rows: {counts.get('measured', 0):,} measured now, {counts.get('skipped', 0):,} "
        f"resumed from an earlier run, {results.n_errors:,} with errors"
    )
    if results.n_errors:
        errors = results.errors()
        for reason in errors["error"].head(5):
            print(f"  error: {reason}")
        if len(errors) > 5:
            print(f"  ... and {len(errors) - 5:,} more (rows with `error` set)")
    if output:
        print(f"Written to {output}")
    else:
        import pandas as pd

        with pd.option_context("display.width", 160, "display.max_columns", 12):
            print(results.to_pandas().head(20))


def describe(exc: BaseException) -> str:
    """One line for the user: what failed, on which file, and what to do about it.

    Example:
        >>> describe(OSError(errno.ENOSPC, "No space left on device", "out/vars.parquet"))
        'the disk is full (writing out/vars.parquet): free some space, or write the output to another disk'
    """
    from ..io.redact import redact

    return redact(_describe(exc))  # a URL's password or token is never printed


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if (extra := missing_extra(exc)) is not None and "pip install" not in str(exc):
        return extra
    if isinstance(exc, OSError) and exc.errno is not None and not str(exc).startswith(str(exc.filename or "\0")):
        name = exc.filename or "a file"
        if exc.errno == errno.ENOSPC:
            return f"the disk is full (writing {name}): free some space, or write the output to another disk"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"{name}: permission denied: write to a folder you may write to"
        if exc.errno == errno.ENOTDIR:
            return f"{name}: a part of this path is a file, not a folder: choose another output path"
        return f"{name}: {exc.strerror or exc}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return (
        text
        if isinstance(exc, (ValueError, RuntimeError, FileNotFoundError, ImportError)) and text
        else f"{type(exc).__name__}: {text}"
        if text
        else type(exc).__name__
    )
