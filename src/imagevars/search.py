"""Search stored embeddings by text or by image: exact cosine similarity, in blocks, memory-mapped.

The first search of a file writes a NumPy index beside it (``<file>.index.npy``); every
search then maps it into memory and scores it block by block, so memory stays small and
repeated queries are fast.

The embeddings file is a Parquet file written by ``imagevars run clip-embed`` (column
``clip_emb``: search by text or by image) or ``imagevars run embed`` (column ``embed_vector``,
scaled to unit length in the index: search by image); its provenance names the model, and the
query is embedded with that same model. Files made by different models are refused: their
spaces do not line up.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .io.files import atomic_write

BLOCK = 65536  # rows per matrix product: 128 MB of float32 512-d vectors at a time


COLUMNS = {"clip-embed": "clip_emb", "embed": "embed_vector"}  # the task that wrote a file -> its vectors


def embedding_model(path: str | os.PathLike) -> str:
    """The model id a clip-embed or embed file was made with (from its provenance)."""
    return embedding_task(path)[1]


def embedding_task(path: str | os.PathLike) -> tuple[str, str]:
    """(task, model id) of an embeddings file, from its provenance."""
    from .io.table import Results

    tasks = Results.read(path).provenance.get("tasks", [])
    for t in tasks:
        if t.get("name") in COLUMNS:
            return t["name"], t["params"]["model"]
    raise ValueError(
        f"{path} has no clip-embed or embed provenance: make it with `imagevars run clip-embed` "
        "(text and image search) or `imagevars run embed` (image search)"
    )


def index(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings (n, dim), valid (n,)) of a clip-embed file, memory-mapped from a sidecar index.

    Parquet pages must be decoded to be read; the first search of a file therefore writes its
    vectors once to ``<file>.index.npy`` (rows without an embedding, the error rows, as zeros
    marked in ``<file>.valid.npy``), which later searches map straight into memory. The index
    is rebuilt when the Parquet file changes.
    """
    import json

    import pyarrow.parquet as pq

    path = Path(path)
    vec_path, valid_path, stamp_path = (
        path.with_name(path.name + s) for s in (".index.npy", ".valid.npy", ".index.json")
    )
    stat = path.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if (
        vec_path.exists()
        and valid_path.exists()
        and stamp_path.exists()
        and json.loads(stamp_path.read_text()) == stamp
    ):
        return np.load(vec_path, mmap_mode="r"), np.load(valid_path)
    f = pq.ParquetFile(path)
    column = next((c for c in COLUMNS.values() if c in f.schema_arrow.names), None)
    if column is None:
        raise ValueError(f"{path} has no clip_emb or embed_vector column to search")
    field = f.schema_arrow.field(column)
    dim, dtype = field.type.list_size, field.type.value_type.to_pandas_dtype()
    n = f.metadata.num_rows
    valid = np.zeros(n, bool)

    def write_vectors(tmp: str) -> None:
        vectors = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=(n, dim))
        offset = 0
        for batch in f.iter_batches(columns=[column], batch_size=BLOCK):
            col = batch.column(0)
            ok = col.is_valid()
            rows = np.flatnonzero(ok.to_numpy(zero_copy_only=False)) + offset
            present = col if len(rows) == len(col) else col.filter(ok)
            block = present.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
            if column == "embed_vector":  # backbone features: unit length, so the product is the cosine
                block = block / np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
            vectors[rows] = block
            valid[rows] = True
            offset += len(col)
        vectors.flush()

    atomic_write(vec_path, write_vectors, suffix=".tmp.npy")
    atomic_write(valid_path, lambda tmp: np.save(tmp, valid), suffix=".tmp.npy")
    atomic_write(stamp_path, lambda tmp: Path(tmp).write_text(json.dumps(stamp)))  # last: it vouches for the two
    return np.load(vec_path, mmap_mode="r"), valid


def top_k(paths: Sequence[str | os.PathLike], query: np.ndarray, k: int = 20):
    """(source, score) of the k rows most similar to the unit vector ``query``, best first, over the files."""
    import pyarrow.parquet as pq

    found: list[tuple[float, int, int]] = []  # (score, file number, row)
    for fi, path in enumerate(paths):
        vectors, valid = index(path)
        if vectors.shape[1] != len(query):
            raise ValueError(f"{path} holds {vectors.shape[1]}-d embeddings, the query is {len(query)}-d")
        for i in range(0, len(vectors), BLOCK):
            scores = np.asarray(vectors[i : i + BLOCK], dtype=np.float32) @ query
            scores[~valid[i : i + BLOCK]] = -np.inf
            keep = np.argpartition(-scores, k)[:k] if len(scores) > k else np.arange(len(scores))
            found += [(float(scores[j]), fi, i + int(j)) for j in keep if np.isfinite(scores[j])]
            found = sorted(found, key=lambda x: -x[0])[:k]
    out = []
    for fi, path in enumerate(paths):  # names of the winners only
        mine = [(score, row) for score, f, row in found if f == fi]
        if mine:
            names = pq.read_table(path, columns=["source"]).column("source").take([r for _, r in mine]).to_pylist()
            out += [(name, score) for (score, _), name in zip(mine, names)]
    return sorted(out, key=lambda x: -x[1])


def search(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    text: str | None = None,
    image: str | None = None,
    top: int = 20,
    model=None,
):
    """The ``top`` stored images most similar to a text or an image, as a DataFrame (rank, source, score).

    Example:
        >>> search("emb.parquet", "a dog on a beach", top=5)  # doctest: +SKIP
    """
    import pandas as pd

    from .io.decode import decode
    from .io.sources import read_source
    from .models.clip import ClipModel

    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if (text is None) == (image is None):
        raise ValueError("search by text or by image: give exactly one of them")
    models = {embedding_task(p) for p in paths}
    if len(models) > 1:
        raise ValueError(
            f"these files were embedded by different models ({', '.join(sorted(m for _, m in models))}); "
            "their similarities are not comparable: search them separately"
        )
    task, spec = models.pop()
    if task == "embed":
        if text is not None:
            raise ValueError(
                f"{spec} features have no text side: search them by image (--image), or embed with "
                "clip-embed to search by text"
            )
        q = _backbone_query(spec, str(image))
    else:
        if model is not None and getattr(model, "spec", spec) != spec:
            raise ValueError(f"the files were embedded by {spec}, the query model is {model.spec}")
        model = model or ClipModel(spec)
        if text is not None:
            q = model.embed_texts([text])[0]
        else:
            q = model.embed_images([decode(read_source(str(image)), str(image)).rgb])[0]
    hits = top_k([Path(p) for p in paths], q.astype(np.float32), top)
    return pd.DataFrame(
        {"rank": range(1, len(hits) + 1), "source": [s for s, _ in hits], "score": [v for _, v in hits]}
    )


def _backbone_query(spec: str, image: str) -> np.ndarray:
    """An image's features from the backbone an ``embed`` file was made with, as the run computed them, unit length."""
    from .io.decode import decode
    from .io.sources import read_source
    from .tasks.embed import EmbedTask

    task = EmbedTask(spec)
    decoded = decode(read_source(image), image, task.max_side)  # as `imagevars run embed` decodes it
    v = np.asarray(task([task.preprocessor()(decoded)])["embed_vector"][0], np.float32)
    return v / max(float(np.linalg.norm(v)), 1e-12)
