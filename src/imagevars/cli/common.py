"""What several commands share: thread settings, file names per input, the run summary."""

from __future__ import annotations

import os


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
    print(f"{len(results):,} rows: {counts.get('measured', 0):,} measured now, {counts.get('skipped', 0):,} "
          f"resumed from an earlier run, {results.n_errors:,} with errors")
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
