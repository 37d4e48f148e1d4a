"""The cluster engines' ordered window: chunks shrink toward the end so the workers finish together."""

from __future__ import annotations

from imagevars.engines.cluster import in_order
from imagevars.io.sources import Item


def _items(n):
    return [Item(index=i, source=f"{i}.jpg", path=f"{i}.jpg") for i in range(n)]


def _run(n, **kw):
    sizes = []

    def submit(batch):
        sizes.append(len(batch))
        return [(it.index, {"x": it.index}, None) for it in batch]

    out = list(in_order(iter(_items(n)), submit, lambda done: done, 32, 4, **kw))
    assert [it.index for it, _ in out] == list(range(n)) and [r[0] for _, r in out] == list(range(n))
    return sizes


def test_chunks_shrink_toward_the_end_given_the_total():
    sizes = _run(100, total=100, workers=2)
    assert sum(sizes) == 100 and max(sizes) <= 12 and sizes[-1] == 1
    assert sizes == sorted(sizes, reverse=True)  # never a big chunk after small ones
    # the last quarter of the images is spread over at least 8 calls, not one worker's chunk of 32
    tail, k = 0, len(sizes)
    while tail < 25:
        k -= 1
        tail += sizes[k]
    assert len(sizes) - k >= 8


def test_without_the_total_every_chunk_is_full():
    assert _run(100) == [32, 32, 32, 4]
