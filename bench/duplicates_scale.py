"""`imagevars duplicates` on a million hashes: seconds and peak memory of the exact search.

    python bench/duplicates_scale.py --rows 1000000 --rounds 3

The table: ``--rows`` random 64-bit pHashes, of which 1% are near-copies of others (1 to 6 bits
flipped) and 1,000 are one placeholder image repeated. It times :func:`find_duplicates` from the
hexadecimal strings to the groups table (max distance 6), reports the median of the rounds, the
peak memory the search allocated (tracemalloc, which sees NumPy's buffers) and the process's peak
resident size, checks that every planted copy was grouped with its original, and prints how
busy the machine was.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from quiet import Quiet  # noqa: E402


def table(rows: int, seed: int = 0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 2**63, rows, dtype=np.int64).astype(np.uint64) * np.uint64(2) + rng.integers(
        0, 2, rows
    ).astype(np.uint64)
    n_copies = rows // 100
    originals = rng.integers(n_copies + 1000, rows, n_copies)
    flips = np.zeros(n_copies, np.uint64)
    for k in range(6):
        on = rng.random(n_copies) < (1.0 if k == 0 else 0.5)
        flips |= np.where(on, np.uint64(1) << rng.integers(0, 64, n_copies).astype(np.uint64), np.uint64(0))
    codes[:n_copies] = codes[originals] ^ flips
    codes[n_copies : n_copies + 1000] = codes[-1]  # a placeholder image, 1,001 times
    return pd.DataFrame(
        {"source": [f"img{i}.jpg" for i in range(rows)], "hash_phash": [f"{c:016x}" for c in codes]}
    ), originals


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    from imagevars.duplicates import find_duplicates

    df, originals = table(args.rows)
    times, peaks = [], []
    with Quiet() as q:
        for _ in range(args.rounds):
            tracemalloc.start()
            t0 = time.perf_counter()
            groups, pairs = find_duplicates(df, max_distance=6)
            times.append(time.perf_counter() - t0)
            peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.stop()
    g = groups["dup_group"].to_numpy()
    found = (g[: len(originals)] == g[originals]).mean()
    print(
        f"{args.rows:,} hashes, max distance 6: {statistics.median(times):.1f} s (rounds: "
        f"{', '.join(f'{t:.1f}' for t in times)}), search allocated at most {max(peaks):,.0f} MiB, process peak "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
    )
    print(f"{len(pairs):,} close pairs; planted near-copies grouped with their original: {found:.2%}")
    print(q.line())


if __name__ == "__main__":
    main()
