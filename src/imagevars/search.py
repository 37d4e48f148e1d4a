"""Search stored embeddings by text or by image: exact cosine similarity, in blocks, memory-mapped.

The embeddings file is a Parquet file written by ``imagevars run clip-embed`` (column
``clip_emb``); its provenance names the model, and the query is embedded with that same model.
Files made by different models are refused: their spaces do not line up.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

BLOCK = 65536  # rows per matrix product: 128 MB of float32 512-d vectors at a time


def embedding_model(path: str | os.PathLike) -> str:
    """The model id a clip-embed file was made with (from its provenance)."""
    from .table import Results

    tasks = Results.read(path).provenance.get("tasks", [])
    for t in tasks:
        if t.get("name") == "clip-embed":
            return t["params"]["model"]
    raise ValueError(f"{path} has no clip-embed provenance: make it with `imagevars run clip-embed`")


def top_k(paths: Sequence[str | os.PathLike], query: np.ndarray, k: int = 20):
    """(source, score) of the k rows most similar to the unit vector ``query``, best first, over the files."""
    import pyarrow.parquet as pq

    best_scores = np.full(0, -np.inf, np.float32)
    best_sources: list[str] = []
    for path in paths:
        table = pq.read_table(path, columns=["source", "clip_emb"], memory_map=True)
        emb = table.column("clip_emb")
        dim = emb.type.list_size
        if dim != len(query):
            raise ValueError(f"{path} holds {dim}-d embeddings, the query is {len(query)}-d")
        offset = 0
        for chunk in emb.chunks:
            valid = chunk.is_valid()
            rows = np.flatnonzero(valid.to_numpy(zero_copy_only=False)) + offset  # error rows have no embedding
            present = chunk if len(rows) == len(chunk) else chunk.filter(valid)
            vectors = present.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
            for i in range(0, len(vectors), BLOCK):
                scores = vectors[i : i + BLOCK].astype(np.float32, copy=False) @ query
                if len(scores) > k:
                    keep = np.argpartition(-scores, k)[:k]
                else:
                    keep = np.arange(len(scores))
                sources = table.column("source").take(rows[i : i + BLOCK][keep]).to_pylist()
                best_scores = np.concatenate([best_scores, scores[keep]])
                best_sources += sources
                order = np.argsort(-best_scores, kind="stable")[:k]
                best_scores, best_sources = best_scores[order], [best_sources[j] for j in order]
            offset += len(chunk)
    return list(zip(best_sources, best_scores.astype(float).tolist()))


def search(paths: str | os.PathLike | Sequence[str | os.PathLike], text: str | None = None,
           image: str | None = None, top: int = 20, model=None):
    """The ``top`` stored images most similar to a text or an image, as a DataFrame (rank, source, score).

    Example:
        >>> search("emb.parquet", "a dog on a beach", top=5)  # doctest: +SKIP
    """
    import pandas as pd

    from .decode import decode
    from .models.clip import ClipModel
    from .sources import read_source

    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if (text is None) == (image is None):
        raise ValueError("search by text or by image: give exactly one of them")
    models = {embedding_model(p) for p in paths}
    if len(models) > 1:
        raise ValueError(f"these files were embedded by different models ({', '.join(sorted(models))}); "
                         "their similarities are not comparable: search them separately")
    spec = models.pop()
    if model is not None and getattr(model, "spec", spec) != spec:
        raise ValueError(f"the files were embedded by {spec}, the query model is {model.spec}")
    model = model or ClipModel(spec)
    if text is not None:
        q = model.embed_texts([text])[0]
    else:
        q = model.embed_images([decode(read_source(str(image)), str(image)).rgb])[0]
    hits = top_k([Path(p) for p in paths], q.astype(np.float32), top)
    return pd.DataFrame({"rank": range(1, len(hits) + 1), "source": [s for s, _ in hits],
                         "score": [v for _, v in hits]})
