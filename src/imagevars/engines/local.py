"""The local engine: decode and preprocess in worker processes on this machine, in input order.

The runner (:mod:`imagevars.pipeline.runner`) hands this engine the inputs still to measure;
each worker process reads, decodes and runs every task's ``preprocess`` on a chunk of them (and,
when the run's tasks ask for it, their calls too, on its own single-thread copy of their models:
:func:`imagevars.pipeline.engines.models_in_workers`), with one thread per library (two-thread
libraries sharing cores with other work were seen to slow 8x). At most a few chunks per worker
are in flight, so memory stays flat however many images there are, and chunks come back in
input order. An input that cannot be read comes back as its error string, never as an exception.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .._env import SETTINGS_PREFIXES, settings
from .._memory import keep_freed_memory
from ..io.decode import Decoded, DecodeError, decode_each, shrink
from ..io.redact import redact
from ..io.sources import Item, printable, read_source
from ..io.video import is_video
from .start import chosen_start_method, worker_context

_WORKER: dict[str, Any] = {}


def _exit_with_parent(parent: int) -> None:
    """Watchdog thread of a worker: exit when the main process is gone (killed with SIGKILL, say)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def init_worker(
    preprocessors,
    sides,
    fetch_options,
    every=None,
    single_thread: bool = True,
    env: dict[str, str] | None = None,
    forked: bool = False,
) -> None:
    """Set up a worker process: the parent's imagevars settings (``env``: :func:`imagevars._env.settings`, which a
    fork server's or a spawned child's environment may lack), one thread per library, and what each item needs.

    A ``forked`` worker leaves the thread pools it inherited alone: resizing OpenCV's in a child forked while the
    parent's pool ran hangs the child (the threads it would stop are not in the copy), and that copy's pool
    already runs serially."""
    if single_thread:  # in worker processes only: never change the caller's own environment
        for name in [k for k in os.environ if k.startswith(SETTINGS_PREFIXES) and k not in (env or {})]:
            del os.environ[name]
        os.environ.update(env or {})
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENCV_FOR_THREADS_NUM"):
            os.environ[var] = "1"
        if not forked:
            _single_thread_libraries()
        keep_freed_memory()
        threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    _WORKER.update(preprocessors=preprocessors, sides=list(sides), fetch=fetch_options, every=every)


def _single_thread_libraries() -> None:
    """One thread for the libraries a worker has already imported (a fork server's preload: their thread pools
    were sized before the variables above were set)."""
    import sys

    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(1)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def error_text(text: str) -> str:
    """An error row's text: a file name's undecodable bytes as ``\\xNN``, a URL's secrets as ``***``."""
    return redact(printable(text))


def measure_item(item: Item) -> tuple[int, list | None, str | None]:
    """Read, decode and preprocess one item; any failure becomes its error string.

    A video item (``item.span`` set) gives a list of frames: (frame, time_s, info, features,
    error) each, where an error entry ends the list.
    """
    try:
        if item.span is not None:
            return item.index, _measure_video(item), None
        if is_video(item.source):
            raise DecodeError(f"{item.source}: a video; say how to sample its frames: every='1s' (CLI --every 1s)")
        decoded = decode_each(read_source(item.path, _WORKER["fetch"]), item.source, _WORKER["sides"])
        return item.index, [p(d) for p, d in zip(_WORKER["preprocessors"], decoded)], None
    except DecodeError as exc:
        return item.index, None, error_text(str(exc))
    except Exception as exc:  # a bug or an odd file must not end a million-image run
        return item.index, None, error_text(f"{item.source}: {type(exc).__name__}: {exc}".splitlines()[0])


def _measure_video(item: Item) -> list[tuple]:
    from ..io.video import frames, probe

    start, end = item.span
    try:
        info = probe(item.path)
    except DecodeError as exc:
        return [(None, None, None, None, error_text(str(exc)))]
    meta = (info.duration_s, info.fps, info.width, info.height, info.codec)
    nbytes = os.path.getsize(item.path)
    out: list[tuple] = []
    try:
        for f, t, rgb in frames(item.path, _WORKER["every"], start, None if end == float("inf") else end):
            h, w = rgb.shape[:2]
            shrunk = {s: Decoded(shrink(rgb, s), w, h, nbytes, "video", "RGB") for s in set(_WORKER["sides"])}
            out.append((f, t, meta, [p(shrunk[s]) for p, s in zip(_WORKER["preprocessors"], _WORKER["sides"])], None))
    except DecodeError as exc:
        out.append((None, None, meta, None, error_text(str(exc))))
    if not out and start == 0:
        out.append((None, None, meta, None, f"{item.source}: no video frames could be decoded"))
    return out


def call_tasks(tasks: Sequence[Any], features: list[list]) -> tuple[list[dict], list[str | None]]:
    """Each task's call on the features of a batch of images: ({column: value} per image, error per image).

    A task call that raises is tried again image by image, and an image whose own call raises gets
    an error (``"task <name>: <reason>"``) and no columns from any task: one bad image is one error
    row, never a failed batch or run.

    Example:
        >>> class Inverse:
        ...     name = "inv"
        ...     def __call__(self, batch):
        ...         return {"inv_x": [1 / x for x in batch]}
        >>> call_tasks([Inverse()], [[2], [0], [4]])
        ([{'inv_x': 0.5}, {}, {'inv_x': 0.25}], [None, 'task inv: ZeroDivisionError: division by zero', None])
    """
    outputs: list[dict] = [{} for _ in features]
    errors: list[str | None] = [None] * len(features)
    for k, task in enumerate(tasks):
        alive = [i for i, e in enumerate(errors) if e is None]
        if not alive:
            break
        try:
            results = [task([features[i][k] for i in alive])]
            groups = [alive]
        except Exception:  # noqa: BLE001 - find the image that fails, keep the others
            results, groups = [], []
            for i in alive:
                try:
                    results.append(task([features[i][k]]))
                    groups.append([i])
                except Exception as exc:  # noqa: BLE001
                    reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
                    errors[i], outputs[i] = f"task {getattr(task, 'name', k)}: {reason}", {}
        for group, out in zip(groups, results):
            for name, values in out.items():
                for i, v in zip(group, values):
                    if errors[i] is None:
                        outputs[i][name] = v
    return outputs, errors


def decode_sides(tasks: Sequence[Any]) -> list[int | None]:
    """The longest side each task needs its image at (None: full size); each task gets its image at its own side.

    Example:
        >>> from types import SimpleNamespace as T
        >>> decode_sides([T(max_side=512), T(max_side=None)])
        [512, None]
    """
    return [t.max_side for t in tasks]


def measure_chunk(items: list[Item]) -> list[tuple[int, list | None, str | None]]:
    return [measure_item(it) for it in items]


def chunk_size(chunk: int, left: int | None, workers: int) -> int:
    """Images per worker call: ``chunk``, shrinking toward the end of the run so the workers finish together.

    Guided self-scheduling: at most a quarter of a worker's share of what is left, so the last
    calls are single images rather than one worker's 16 while the other cores idle (0.4 s on
    a 400-photo run of ``quality``).

    Example:
        >>> [chunk_size(16, left, 2) for left in (1000, 100, 40, 9, 1, None)]
        [16, 12, 5, 1, 1, 16]
    """
    if left is None:
        return chunk
    return max(1, min(chunk, left // (4 * workers)))


def stream(
    items: Iterator[Item],
    workers: int,
    chunk: int,
    init_args,
    total: int | None = None,
    measure: Callable[[list[Item]], list[tuple]] = measure_chunk,
    start_method: str | None = None,
) -> Iterator[tuple[Item, tuple]]:
    """(item, result) in input order, with a bounded number of chunks in flight.

    ``init_args`` are :func:`init_worker`'s: the tasks' preprocessors, the longest side to decode
    at, URL fetch options and the video sampling.

    ``total``, the number of items, lets chunks shrink toward the end (:func:`chunk_size`).

    ``measure`` is what a worker does with a chunk (picklable): :func:`measure_chunk` reads, decodes and
    preprocesses; :func:`imagevars.engines.cluster.measure_chunk` (partly applied) also runs the tasks.

    ``start_method`` (default: :func:`imagevars.engines.start.chosen_start_method` for what the workers get).
    """
    if workers == 0:
        init_worker(*init_args, single_thread=False)
        for it in items:
            yield it, measure_item(it)
        return
    pool = _Pool(workers, init_args, measure, start_method)
    try:
        window: deque = deque()
        batch: list[Item] = []
        sent = 0
        size = chunk_size(chunk, total, workers)

        def drain_one():
            its, fut = window.popleft()
            try:
                yield from zip(its, fut.result())
            except BrokenProcessPool:  # a worker died (a decoder crashed, the kernel killed it for memory)
                pending = [its] + [b for b, _ in window]
                window.clear()
                pool.restart()
                for group in pending:  # what was in flight, again, one file at a time
                    for item in group:
                        yield item, pool.one(item)

        for it in items:
            batch.append(it)
            if len(batch) >= size or it.span is not None:  # a video segment travels alone: many frames
                window.append((batch, pool.submit(batch)))
                sent += len(batch)
                batch = []
                size = chunk_size(chunk, None if total is None else total - sent, workers)
                # image chunks: a few per worker ahead; video segments (tens of frames each): one per worker
                limit = workers + 1 if any(b[0][-1].span is not None for b in window) else 4 * workers
                while len(window) >= limit:
                    yield from drain_one()
        if batch:
            window.append((batch, pool.submit(batch)))
        while window:
            yield from drain_one()
    except BaseException:  # Ctrl-C, a strict run's first error, a consumer that stopped: what is in flight is void
        pool.kill()
        raise
    finally:
        pool.close()


WORKER_DIED = "the worker process measuring this file died (a crashed decoder, or out of memory); the file was skipped"


class _Pool:
    """The worker processes, replaced when one dies: the files in flight are then measured again one at a time,
    and a file whose own call kills a worker again becomes an error row (:data:`WORKER_DIED`)."""

    def __init__(
        self,
        workers: int,
        init_args,
        measure: Callable[[list[Item]], list[tuple]] = measure_chunk,
        method: str | None = None,
    ):
        self.workers, self.measure = workers, measure
        preprocessors, sides, fetch_options, every = init_args
        self.method = method or chosen_start_method(init_args, measure)
        self.init_args = (preprocessors, sides, fetch_options, every, True, settings(), self.method == "fork")
        self.context = worker_context(self.method)
        self.pool = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers, mp_context=self.context, initializer=init_worker, initargs=self.init_args
        )

    def submit(self, batch: list[Item]):
        try:
            return self.pool.submit(self.measure, batch)
        except BrokenProcessPool as exc:  # a worker died since the last call: the chunk fails as if it ran there
            from concurrent.futures import Future

            failed: Future = Future()
            failed.set_exception(exc)
            return failed

    def restart(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new()

    def one(self, item: Item) -> tuple[int, list | None, str | None]:
        try:
            return self.pool.submit(self.measure, [item]).result()[0]
        except BrokenProcessPool:  # alone in a fresh pool: this file killed its worker
            self.restart()
            message = f"{item.source}: {WORKER_DIED}"
            if item.span is not None:  # a video segment: one error entry, as a segment that cannot be read
                return item.index, [(None, None, None, None, message)], None
            return item.index, None, message

    def kill(self) -> None:
        """Stop the workers now, without waiting for the chunks they hold (a worker stuck on a slow read would
        otherwise hold up a Ctrl-C): ProcessPoolExecutor has no public way before Python 3.14."""
        for process in list((getattr(self.pool, "_processes", None) or {}).values()):
            process.terminate()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
