"""What a cluster's worker (a Dask worker, a Ray actor) runs: the run's tasks built once from their specs,
then whole chunks measured: read, decode, preprocess and the tasks' calls, with each input's columns or
its error sent back."""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..io.sources import Item
from .local import WORKER_DIED, call_tasks, chunk_size, init_worker
from .local import measure_chunk as prepare

_BUILT: dict[str, list] = {}
_READY: set[str] = set()  # specs whose preprocessors this worker has set up


def worker_tasks(specs: str, init_rest: tuple | None, threads: int) -> list:
    """The run's tasks in this worker process, built once from their specs (and, given ``init_rest``, the
    worker set up to decode for them)."""
    if specs not in _BUILT:
        from .specs import rebuild

        os.environ["IMAGEVARS_THREADS"] = str(threads)
        _BUILT.clear()
        _READY.clear()
        _BUILT[specs] = [rebuild(s) for s in json.loads(specs)]
    if init_rest is not None and specs not in _READY:
        init_worker([t.preprocessor() for t in _BUILT[specs]], *init_rest, single_thread=False)
        _READY.add(specs)
    return _BUILT[specs]


@dataclass
class Described:
    """A task as a worker built it, told to the driver without its model: its name, columns, provenance,
    preprocessor (for decode workers) and spec. The runner plans the table with it; the calls run on the
    workers."""

    name: str
    long: bool
    max_side: int | None
    columns: list
    record: dict
    prepare: Callable
    built_from: dict

    def fields(self) -> list:
        return self.columns

    def provenance(self) -> dict:
        return self.record

    def preprocessor(self) -> Callable:
        return self.prepare

    def spec(self) -> dict:
        return self.built_from

    def __call__(self, batch: list) -> dict:
        raise RuntimeError(f"task {self.name} was built on the cluster's workers; it runs there")


def describe(specs: str, threads: int) -> list[Described]:
    """On a worker: the run's tasks built from their specs (kept for the chunks this worker will measure) and
    described for the driver, which so never loads a model."""
    tasks = worker_tasks(specs, None, threads)
    return [
        Described(
            t.name, bool(getattr(t, "long", False)), t.max_side, t.fields(), t.provenance(), t.preprocessor(), spec
        )
        for t, spec in zip(tasks, json.loads(specs))
    ]


def measure_chunk(specs: str, init_rest: tuple | None, threads: int, items: list[Item]) -> list[tuple]:
    """On a worker: (index, {column: value} or None, error) for each item, in order; for a video segment, its
    frames as :func:`imagevars.engines.local.measure_item` gives them, each frame's features replaced by its
    {column: value} (or by its error). ``init_rest`` None: the worker was already set up to decode for these
    tasks (the local engine's pool initializer)."""
    tasks = worker_tasks(specs, init_rest, threads)
    return call_chunk(tasks, items, prepare(items))


def call_chunk(tasks: list, items: list[Item], prepared: list[tuple]) -> list[tuple]:
    """The tasks' calls on a chunk's prepared items (read, decoded and preprocessed by
    :func:`imagevars.engines.local.measure_chunk`, here or on a decode worker): :func:`measure_chunk`'s answer."""
    measured = [list(m) for m in prepared]
    for pos, it in enumerate(items):
        if it.span is not None and measured[pos][2] is None:
            measured[pos][1] = _measure_frames(tasks, measured[pos][1])
    good = [pos for pos, (_, _, err) in enumerate(measured) if err is None and items[pos].span is None]
    outputs: list[dict | None] = [None] * len(items)
    results, errors = call_tasks(tasks, [measured[pos][1] for pos in good])  # a failing image: one error row
    for pos, out, err in zip(good, results, errors):
        outputs[pos], measured[pos][2] = (None, err) if err is not None else (out, None)
    return [
        (index, measured[pos][1] if it.span is not None else outputs[pos], err)
        for pos, ((index, _, err), it) in enumerate(zip(measured, items))
    ]


def _measure_frames(tasks: list, frames: list[tuple]) -> list[tuple]:
    """A video segment's frames (frame, time_s, info, features, error) with the tasks' columns for features."""
    good = [k for k, fr in enumerate(frames) if fr[4] is None]
    results, errors = call_tasks(tasks, [frames[k][3] for k in good])
    out = [(f, t, info, None, err) for f, t, info, _, err in frames]
    for k, columns, err in zip(good, results, errors):
        f, t, info = frames[k][:3]
        out[k] = (f, t, info, None, err) if err is not None else (f, t, info, columns, None)
    return out


def in_order(
    items: Iterator[Item],
    submit: Callable[[list[Item]], Any],
    result: Callable[[Any], list],
    chunk: int,
    in_flight: int,
    died: Callable[[BaseException], bool] = lambda exc: False,
    recover: Callable[[], None] = lambda: None,
    cancel: Callable[[Any], None] = lambda handle: None,
    total: int | None = None,
    workers: int = 1,
) -> Iterator[tuple[Item, tuple]]:
    """(item, (index, outputs, error)) in input order: chunks of ``chunk`` items handed to ``submit`` (a Dask
    future, a Ray object reference), at most ``in_flight`` ahead, each drained with ``result``. Given ``total``
    (the number of items) and ``workers``, chunks shrink toward the end so the workers finish together
    (:func:`imagevars.engines.local.chunk_size`): 100 photos in chunks of 64 kept one of two workers idle for
    a third of the run.

    When ``result`` raises an exception ``died`` recognises (a worker or actor process gone: a crashed
    decoder, the out-of-memory killer), the chunks in flight are cancelled, ``recover`` replaces the
    workers, and those chunks are sent again one file at a time; a file whose own call kills a worker
    twice becomes one error row (:data:`imagevars.engines.local.WORKER_DIED`; twice, because a file
    sent while another worker was dying can be lost with it). The run goes on.
    """
    window: deque = deque()
    batch: list[Item] = []

    def one(item: Item) -> tuple:
        for _ in range(2):
            try:
                return result(submit([item]))[0]
            except BaseException as exc:
                if not died(exc):
                    raise
                recover()
        return item.index, None, f"{item.source}: {WORKER_DIED}"

    def drain_one():
        its, pending = window.popleft()
        try:
            yield from zip(its, result(pending))
        except BaseException as exc:
            if not died(exc):
                raise
            waiting = [its] + [b for b, _ in window]
            for _, handle in window:
                cancel(handle)
            window.clear()
            recover()
            for group in waiting:
                for item in group:
                    yield item, one(item)

    sent, size = 0, chunk_size(chunk, total, workers)

    def send(group: list[Item]) -> None:
        nonlocal sent, size
        window.append((group, submit(group)))
        sent += len(group)
        size = chunk_size(chunk, None if total is None else total - sent, workers)

    for it in items:
        if it.span is not None and batch:  # a video segment (tens of frames) travels alone
            send(batch)
            batch = []
        batch.append(it)
        if len(batch) >= size or it.span is not None:
            send(batch)
            batch = []
            while len(window) >= in_flight:
                yield from drain_one()
    if batch:
        send(batch)
    while window:
        yield from drain_one()
