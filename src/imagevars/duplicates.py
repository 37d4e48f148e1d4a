"""Near-duplicate images: groups by perceptual-hash distance (exact), and optionally by embedding similarity.

``imagevars run hash`` writes each image's 64-bit pHash and dHash; two images are near-copies
when their hashes differ in at most ``max_distance`` bits. All such pairs are found exactly
(no approximate index) by multi-index hashing (Norouzi, Punjani & Fleet 2012, CVPR): the 64
bits are cut into ``m`` bands, and two hashes within distance ``d`` agree within ``d // m``
bits on at least one band (pigeonhole), so only images that share a band value, or one within
``d // m`` bit flips of it, are ever compared; identical hashes are compared once. Images are
then grouped by the connected components of the pairs: a repost of a repost is in the
original's group even if it is further from the original than ``max_distance``.

With ``min_cosine`` and an ``embed`` or ``clip-embed`` column in the table, pairs whose
embeddings have cosine similarity at or above it join the groups too (exact, by blocks of
matrix products: quadratic in the rows, minutes for 100,000 images).

Columns of the groups table (``dup_`` + name), one row per row of the input:

================ ===============================================================================
group            the group's number (0, 1, ... in order of the group's first row); every image
                 has one, an image without near-copies is a group of its own
group_size       images in the group (1: no near-copy)
n_near           other images within ``max_distance`` of this one (or above ``min_cosine``)
nearest_distance Hamming distance to the nearest other image, if one is within ``max_distance``
uniqueness       1 / group_size: 1 for an image with no near-copy, 0.5 for one of a pair ...
================ ===============================================================================

Rows without a hash (error rows) keep their ``error`` and have no group.
"""

from __future__ import annotations

import math
import os
from itertools import combinations

import numpy as np

BITS = 64
CANDIDATES_PER_STEP = 1 << 22  # candidate pairs per vectorised step (bounds the memory of the search)


def parse_hashes(values) -> tuple[np.ndarray, np.ndarray]:
    """(codes as uint64, valid) from 16-digit hexadecimal strings; missing values are not valid.

    Example:
        >>> codes, ok = parse_hashes(["00000000000000ff", None])
        >>> int(codes[0]), ok.tolist()
        (255, [True, False])
    """
    codes = np.zeros(len(values), np.uint64)
    ok = np.zeros(len(values), bool)
    for i, v in enumerate(values):
        if isinstance(v, str) and v:
            if len(v) != 16:
                raise ValueError(f"hash {v!r} is not 16 hexadecimal digits: make the table with `imagevars run hash`")
            codes[i], ok[i] = int(v, 16), True
    return codes, ok


def popcount(x: np.ndarray) -> np.ndarray:
    """Set bits of each uint64.

    Example:
        >>> popcount(np.array([0, 1, 2**64 - 1], np.uint64)).tolist()
        [0, 1, 64]
    """
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int64)
    table = np.array([bin(i).count("1") for i in range(256)], np.int64)
    return table[np.ascontiguousarray(x, np.uint64).view(np.uint8).reshape(len(x), 8)].sum(1)


def plan_bands(n: int, max_distance: int) -> tuple[int, int]:
    """(bands, radius) for ``n`` distinct hashes: the split that needs the fewest probes and comparisons.

    With ``m`` bands of ``w`` bits each hash looks up every key within ``r = d // m`` flips of
    its own on each band (``P = sum C(w, k), k <= r`` lookups) and is compared with the
    ``n P / 2^w`` hashes found there; the cost ``m (P + n P / 2^w)`` is smallest where buckets
    hold about one hash (``w`` near log2 n): 3 or 4 bands for a million hashes at distance 6.

    Example:
        >>> plan_bands(1_000_000, 6), plan_bands(1_000, 6), plan_bands(10, 0)
        ((3, 2), (7, 0), (1, 0))
    """

    def cost(m: int) -> float:
        w, r = BITS // m, max_distance // m
        probes = sum(math.comb(w, k) for k in range(r + 1))
        return m * (probes + n * probes / 2.0**w)

    bands = min(range(1, max_distance + 2), key=lambda m: (cost(m), m)) if max_distance < BITS else 1
    return bands, max_distance // bands


def _flips(width: int, radius: int) -> np.ndarray:
    masks = [0] + [sum(1 << b for b in bits) for r in range(1, radius + 1) for bits in combinations(range(width), r)]
    return np.array(masks, np.uint64)


def _buckets(sorted_keys: np.ndarray, width: int):
    """Functions key -> (first position, count) in ``sorted_keys``: a lookup table for bands up to 24 bits."""
    if width <= 24:
        counts = np.bincount(sorted_keys.astype(np.int64), minlength=1 << width)
        first = np.cumsum(counts) - counts
        return (lambda k: first[k.astype(np.int64)]), (lambda k: counts[k.astype(np.int64)])
    return (
        (lambda k: np.searchsorted(sorted_keys, k, "left")),
        (lambda k: np.searchsorted(sorted_keys, k, "right") - np.searchsorted(sorted_keys, k, "left")),
    )


def hamming_pairs(codes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (i < j) of distinct ``codes`` within ``max_distance`` bits, with its distance. Exact.

    Example:
        >>> i, j, d = hamming_pairs(np.array([0, 3, 7 << 40], np.uint64), 2)
        >>> i.tolist(), j.tolist(), d.tolist()
        ([0], [1], [2])
    """
    codes = np.asarray(codes, np.uint64)
    n = len(codes)
    if not 0 <= max_distance < BITS:
        raise ValueError(f"--max-distance must be between 0 and {BITS - 1} bits, got {max_distance}")
    bands, radius = plan_bands(n, max_distance)
    edges = np.linspace(0, BITS, bands + 1).astype(int)
    found = [_band_pairs(codes, int(lo), int(hi - lo), radius, max_distance) for lo, hi in zip(edges[:-1], edges[1:])]
    pair = (
        np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
    )  # a pair close on two bands is found twice
    i, j = pair // max(n, 1), pair % max(n, 1)
    return i, j, popcount(codes[i] ^ codes[j])


def _band_pairs(codes: np.ndarray, lo: int, width: int, radius: int, max_distance: int) -> np.ndarray:
    """Pairs (as i * n + j, i < j) within ``max_distance`` among those within ``radius`` on bits lo..lo+width.

    Each unordered pair is produced once: within a bucket, a row looks only at the rows after
    it; across buckets, only toward the larger key (the flips are symmetric, so the smaller
    key's row finds the pair). Rows go in steps sized so the candidate lists stay near 4
    million entries.
    """
    n = len(codes)
    keys = (codes >> np.uint64(lo)) & np.uint64((1 << width) - 1)
    order = np.argsort(keys, kind="stable")
    position = np.empty(n, np.int64)
    position[order] = np.arange(n)
    bucket_first, bucket_count = _buckets(keys[order], width)
    flips = _flips(width, radius)[1:]
    step = max(1, CANDIDATES_PER_STEP // int((len(flips) + 1) * (1 + n / 2.0**width)))
    found = []
    for start in range(0, n, step):
        rows = np.arange(start, min(n, start + step))
        probes = keys[rows, None] ^ flips[None, :]
        up = probes > keys[rows, None]  # toward the larger key only
        who = np.concatenate([rows, np.broadcast_to(rows[:, None], probes.shape)[up]])
        same_end = bucket_first(keys[rows]) + bucket_count(keys[rows])
        first = np.concatenate([position[rows] + 1, bucket_first(probes[up])])
        counts = np.concatenate([same_end - position[rows] - 1, bucket_count(probes[up])])
        total = int(counts.sum())
        if not total:
            continue
        i = np.repeat(who, counts)
        j = order[np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(total)]
        close = popcount(codes[i] ^ codes[j]) <= max_distance
        i, j = i[close], j[close]
        found.append(np.minimum(i, j) * n + np.maximum(i, j))
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def brute_hamming_pairs(codes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same pairs as :func:`hamming_pairs` by comparing every pair (for checking it, and small tables)."""
    codes = np.asarray(codes, np.uint64)
    out_i, out_j = [], []
    for i in range(len(codes) - 1):
        d = popcount(codes[i + 1 :] ^ codes[i])
        j = np.flatnonzero(d <= max_distance) + i + 1
        out_i.append(np.full(len(j), i)), out_j.append(j)
    if not out_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    i, j = np.concatenate(out_i).astype(np.int64), np.concatenate(out_j).astype(np.int64)
    return i, j, popcount(codes[i] ^ codes[j])


def cosine_pairs(
    vectors: np.ndarray, min_cosine: float, block: int = 4096
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (i < j) of rows whose cosine similarity is at least ``min_cosine``, with it. Exact, by blocks.

    Example:
        >>> i, j, c = cosine_pairs(np.array([[1, 0], [0.99, 0.1], [0, 1]], np.float32), 0.95)
        >>> i.tolist(), j.tolist()
        ([0], [1])
    """
    x = np.asarray(vectors, np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    out_i, out_j, out_c = [], [], []
    for s in range(0, len(x), block):
        sims = x[s : s + block] @ x[s:].T  # only the upper triangle: columns from s on
        a, b = np.nonzero(sims >= min_cosine)
        keep = (b + s) > (a + s)
        out_i.append(a[keep] + s), out_j.append(b[keep] + s), out_c.append(sims[a[keep], b[keep]])
    if not out_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return (np.concatenate(out_i).astype(np.int64), np.concatenate(out_j).astype(np.int64), np.concatenate(out_c))


def near_pairs(codes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs (i < j) of rows within ``max_distance``, identical hashes included, each hash compared once.

    A table with 10,000 copies of one placeholder image has 50 million pairs among them: those
    are listed (they are pairs), but the search runs over the distinct hashes only.
    """
    uniq, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    ui, uj, ud = hamming_pairs(uniq, max_distance)
    order = np.argsort(
        inverse, kind="stable"
    )  # rows by hash; the rows of hash k are order[start[k]:start[k] + counts[k]]
    start = np.cumsum(counts) - counts
    single = (counts[ui] == 1) & (counts[uj] == 1)  # the usual case, without a Python loop
    out_i, out_j, out_d = [order[start[ui[single]]]], [order[start[uj[single]]]], [ud[single]]
    for k in np.flatnonzero(counts > 1):  # identical hashes: every pair among the rows sharing one
        rows = order[start[k] : start[k] + counts[k]]
        a, b = np.triu_indices(len(rows), 1)
        out_i.append(rows[a]), out_j.append(rows[b]), out_d.append(np.zeros(len(a), np.int64))
    for a, b, d in zip(ui[~single], uj[~single], ud[~single]):  # close hashes, one of them repeated
        ga, gb = order[start[a] : start[a] + counts[a]], order[start[b] : start[b] + counts[b]]
        (
            out_i.append(np.repeat(ga, len(gb))),
            out_j.append(np.tile(gb, len(ga))),
            out_d.append(np.full(len(ga) * len(gb), d)),
        )
    if not out_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    i, j = np.concatenate(out_i).astype(np.int64), np.concatenate(out_j).astype(np.int64)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    return lo, hi, np.concatenate(out_d).astype(np.int64)


def groups(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Group number of each of ``n`` rows: connected components of the pairs, numbered by first row.

    Example:
        >>> groups(5, np.array([0, 3]), np.array([4, 1])).tolist()
        [0, 1, 2, 1, 0]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(i), np.int8), (i, j)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    first = np.full(label.max() + 1 if n else 0, n, np.int64)
    np.minimum.at(first, label, np.arange(n))
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[label]


VECTOR_COLUMNS = ("clip_emb", "embed_vector")  # written by `imagevars run clip-embed` and `run embed`


def find_duplicates(table, max_distance: int = 6, hash: str = "phash", min_cosine: float | None = None):
    """Near-duplicate groups of a table made by ``imagevars run hash`` (the module docstring defines the columns).

    Args:
        table: a Parquet or CSV file written by ``imagevars run`` with the ``hash`` task, or its DataFrame.
        max_distance: largest Hamming distance, in bits of 64, at which two images are near-copies.
        hash: which hash decides, ``phash`` (default) or ``dhash``.
        min_cosine: also join images whose embeddings (``clip_emb`` or ``embed_vector``) are at least this similar.

    Returns:
        (groups, pairs): one row per input row with its ``dup_`` columns; one row per close pair
        (``source_a``, ``source_b``, ``distance``, and ``cosine`` with ``min_cosine``).

    Example:
        >>> import pandas as pd
        >>> t = pd.DataFrame({"source": ["a.jpg", "b.jpg", "c.jpg"], "error": [None] * 3,
        ...                   "hash_phash": ["ff00ff00ff00ff00", "ff00ff00ff00ff01", "0123456789abcdef"]})
        >>> g, pairs = find_duplicates(t, max_distance=4)
        >>> g["dup_group"].tolist(), pairs[["source_a", "source_b", "distance"]].values.tolist()
        ([0, 0, 1], [['a.jpg', 'b.jpg', 1]])
    """
    import pandas as pd

    df = table if isinstance(table, pd.DataFrame) else _read_table(table)
    column = f"hash_{hash}"
    if column not in df.columns:
        raise ValueError(f"{_name(table)} has no column {column}: make it with `imagevars run hash IMAGES -o FILE`")
    codes, ok = parse_hashes(df[column].tolist())
    rows = np.flatnonzero(ok)
    i, j, dist = near_pairs(codes[rows], max_distance)
    i, j = rows[i], rows[j]
    cos = np.full(len(i), np.nan)
    if min_cosine is not None:
        i, j, dist, cos = _add_cosine(df, table, i, j, dist, min_cosine)
    return _group_table(df, ok, i, j, dist), _pair_table(df, i, j, dist, cos, min_cosine is not None)


def _add_cosine(df, table, i, j, dist, min_cosine):
    column = next((c for c in VECTOR_COLUMNS if c in df.columns), None)
    if column is None:
        raise ValueError(
            f"--min-cosine needs embeddings in {_name(table)}: run `imagevars run hash,embed` "
            "(or clip-embed) to add them"
        )
    has = np.array([v is not None and len(v) > 0 for v in df[column]])
    rows = np.flatnonzero(has)
    ci, cj, cc = cosine_pairs(np.stack(df[column].to_numpy()[rows]) if len(rows) else np.zeros((0, 1)), min_cosine)
    ci, cj = rows[ci], rows[cj]
    n = len(df)
    d_map = dict(zip((i * n + j).tolist(), np.asarray(dist, float).tolist()))
    c_map = dict(zip((ci * n + cj).tolist(), cc.astype(float).tolist()))
    uniq = np.array(sorted(set(d_map) | set(c_map)), np.int64)
    d_out = np.array([d_map.get(k, np.nan) for k in uniq.tolist()], float)
    c_out = np.array([c_map.get(k, np.nan) for k in uniq.tolist()], float)
    return uniq // n, uniq % n, d_out, c_out


def _group_table(df, ok, i, j, dist):
    import pandas as pd

    n = len(df)
    group = groups(n, i, j)
    size = np.bincount(group, minlength=group.max() + 1 if n else 0)[group] if n else np.zeros(0, np.int64)
    near = np.bincount(np.concatenate([i, j]), minlength=n)
    nearest = np.full(n, np.inf)
    finite = ~np.isnan(np.asarray(dist, float))
    np.minimum.at(nearest, i[finite], np.asarray(dist, float)[finite])
    np.minimum.at(nearest, j[finite], np.asarray(dist, float)[finite])
    out = df[[c for c in ("source", "frame", "time_s", "error") if c in df.columns]].copy()
    has = ok | (near > 0)

    def column(values, where):
        return pd.Series(values, index=out.index).where(where).astype("Int64")

    _, first, dense = np.unique(group[has], return_index=True, return_inverse=True)
    renumber = np.empty(len(first), np.int64)
    renumber[np.argsort(first, kind="stable")] = np.arange(len(first))  # by each group's first row
    group = group.copy()
    group[has] = renumber[dense]
    out["dup_group"] = column(group, has)
    out["dup_group_size"] = column(size, has)
    out["dup_n_near"] = column(near, has)
    out["dup_nearest_distance"] = column(np.where(np.isfinite(nearest), nearest, 0), np.isfinite(nearest))
    out["dup_uniqueness"] = pd.Series(1.0 / np.maximum(size, 1), index=out.index).where(has)
    return out.reset_index(drop=True)


def _pair_table(df, i, j, dist, cos, with_cosine: bool):
    import pandas as pd

    src = df["source"].to_numpy() if "source" in df.columns else np.arange(len(df)).astype(str)
    pairs = pd.DataFrame(
        {"source_a": src[i], "source_b": src[j], "distance": pd.Series(np.asarray(dist, float)).astype("Int64")}
    )
    if with_cosine:
        pairs["cosine"] = cos
    return pairs


def _read_table(path):
    import pandas as pd

    if str(path).lower().endswith(".csv"):
        return pd.read_csv(path)
    return pd.read_parquet(path)


def _name(table) -> str:
    return os.fspath(table) if isinstance(table, (str, os.PathLike)) else "the table"


def write_table(df, path: str | os.PathLike) -> None:
    """Write a DataFrame as Parquet, or CSV if ``path`` ends in .csv, atomically."""
    from .io.files import atomic_write

    if str(path).lower().endswith(".csv"):
        atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))
    else:
        atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))
