"""The streaming runner: sources -> decode (worker processes) -> batches -> tasks -> Results/sink.

Decoding and each task's ``preprocess`` run in a pool of worker processes, one per core with
one thread each (two-thread libraries sharing cores with other work were seen to slow 8x);
the main process batches their outputs into the tasks' ``__call__``. At most a few chunks per
worker are in flight, so memory stays flat however many images there are. A file that cannot
be read becomes one row with ``error`` set; the run goes on unless ``strict``.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Iterator, Sequence

from . import __version__
from .decode import DecodeError, Decoded, decode, shrink
from .heap import keep_freed_memory
from .sources import Item, read_source, resolve
from .video import is_video
from .table import Results, key_schema
from .tasks import Task, get_task

_WORKER: dict[str, Any] = {}


class RunError(RuntimeError):
    """A strict run met an input it could not measure."""


def _exit_with_parent(parent: int) -> None:
    """Watchdog thread of a worker: exit when the main process is gone (killed with SIGKILL, say)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _init_worker(preprocessors, max_side, fetch_options, every=None, single_thread: bool = True) -> None:
    if single_thread:  # in worker processes only: never change the caller's own environment
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENCV_FOR_THREADS_NUM"):
            os.environ[var] = "1"
        keep_freed_memory()
        threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    _WORKER.update(preprocessors=preprocessors, max_side=max_side, fetch=fetch_options, every=every)


def _measure(item: Item) -> tuple[int, list | None, str | None]:
    """Read, decode and preprocess one item; any failure becomes its error string.

    A video item (``item.span`` set) gives a list of frames: (frame, time_s, info, features,
    error) each, where an error entry ends the list.
    """
    try:
        if item.span is not None:
            return item.index, _measure_video(item), None
        if is_video(item.source):
            raise DecodeError(f"{item.source}: a video; say how to sample its frames: every='1s' (CLI --every 1s)")
        decoded = decode(read_source(item.source, _WORKER["fetch"]), item.source, _WORKER["max_side"])
        return item.index, [p(decoded) for p in _WORKER["preprocessors"]], None
    except DecodeError as exc:
        return item.index, None, str(exc)
    except Exception as exc:  # a bug or an odd file must not end a million-image run
        return item.index, None, f"{item.source}: {type(exc).__name__}: {exc}".splitlines()[0]


def _measure_video(item: Item) -> list[tuple]:
    from .video import frames, probe

    start, end = item.span
    try:
        info = probe(item.source)
    except DecodeError as exc:
        return [(None, None, None, None, str(exc))]
    meta = (info.duration_s, info.fps, info.width, info.height, info.codec)
    nbytes = os.path.getsize(item.source)
    out: list[tuple] = []
    try:
        for f, t, rgb in frames(item.source, _WORKER["every"], start, None if end == float("inf") else end):
            h, w = rgb.shape[:2]
            decoded = Decoded(shrink(rgb, _WORKER["max_side"]), w, h, nbytes, "video", "RGB")  # as images shrink
            out.append((f, t, meta, [p(decoded) for p in _WORKER["preprocessors"]], None))
    except DecodeError as exc:
        out.append((None, None, meta, None, str(exc)))
    if not out and start == 0:
        out.append((None, None, meta, None, f"{item.source}: no video frames could be decoded"))
    return out


def _max_side(tasks: Sequence[Task]) -> int | None:
    """The longest side to decode at: the largest any task needs, or None (full size) if one needs all."""
    sides = [t.max_side for t in tasks]
    return None if any(s is None for s in sides) else max(sides)


def _measure_chunk(items: list[Item]) -> list[tuple[int, list | None, str | None]]:
    return [_measure(it) for it in items]


def _chunk_size(chunk: int, left: int | None, workers: int) -> int:
    """Images per worker call: ``chunk``, shrinking toward the end of the run so the workers finish together.

    Guided self-scheduling: at most a quarter of a worker's share of what is left, so the last
    calls are single images rather than one worker's 16 while the other cores idle (0.4 s on
    a 400-photo run of ``quality``).

    Example:
        >>> [_chunk_size(16, left, 2) for left in (1000, 100, 40, 9, 1, None)]
        [16, 12, 5, 1, 1, 16]
    """
    if left is None:
        return chunk
    return max(1, min(chunk, left // (4 * workers)))


def _stream(items: Iterator[Item], workers: int, chunk: int, init_args, total: int | None = None
            ) -> Iterator[tuple[Item, tuple]]:
    """(item, result) in input order, with a bounded number of chunks in flight.

    ``total``, the number of items, lets chunks shrink toward the end (:func:`_chunk_size`).
    """
    if workers == 0:
        _init_worker(*init_args, single_thread=False)
        for it in items:
            yield it, _measure(it)
        return
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=init_args) as pool:
        window: deque = deque()
        batch: list[Item] = []
        sent = 0
        size = _chunk_size(chunk, total, workers)

        def drain_one():
            its, fut = window.popleft()
            yield from zip(its, fut.result())

        for it in items:
            batch.append(it)
            if len(batch) >= size or it.span is not None:  # a video segment travels alone: many frames
                window.append((batch, pool.submit(_measure_chunk, batch)))
                sent += len(batch)
                batch = []
                size = _chunk_size(chunk, None if total is None else total - sent, workers)
                # image chunks: a few per worker ahead; video segments (tens of frames each): one per worker
                limit = workers + 1 if any(b[0][-1].span is not None for b in window) else 4 * workers
                while len(window) >= limit:
                    yield from drain_one()
        if batch:
            window.append((batch, pool.submit(_measure_chunk, batch)))
        while window:
            yield from drain_one()


def _video_fields():
    import pyarrow as pa

    return [pa.field("video_duration_s", pa.float64()), pa.field("video_fps", pa.float64()),
            pa.field("video_width", pa.int64()), pa.field("video_height", pa.int64()),
            pa.field("video_codec", pa.string())]


def _frames_as_rows(rows: list[tuple[Item, Any, str | None]]) -> tuple[list[tuple], list[tuple]]:
    """Video items become one row per sampled frame; returns rows and their (frame, time_s, video info).

    A still image is frame 0 at 0.0 s with no video info.
    """
    out, keys = [], []
    for item, feats, err in rows:
        if item.span is None or err is not None:
            out.append((item, feats, err))
            keys.append((0, 0.0, None) if item.span is None else (None, None, None))
            continue
        for frame, time_s, info, frame_feats, frame_err in feats:
            out.append((item, frame_feats, frame_err))
            keys.append((frame, time_s, info))
    return out, keys


def _one_row_per_object(data: dict[str, list], long_names: list[str]) -> dict[str, list]:
    """Expand per-image rows whose long-format cells hold one value per object.

    An image with k objects becomes k rows (``object`` 0 .. k-1), other columns repeated; an
    image with none, or an error, stays one row with ``object`` null, so every input is in
    the table and "no objects" is told apart from "not measured".
    """
    n = [len(data[long_names[0]][i] or ()) for i in range(len(data["source"]))]
    out: dict[str, list] = {}
    for name, values in data.items():
        if name in long_names:
            out[name] = [v for i, cell in enumerate(values) for v in (cell if n[i] else [None])]
        else:
            out[name] = [v for i, v in enumerate(values) for _ in range(max(1, n[i]))]
    out["object"] = [k for i in range(len(n)) for k in (range(n[i]) if n[i] else [None])]
    return out


def run(
    tasks: Sequence[str | Task],
    source: Any,
    output: str | os.PathLike | None = None,
    *,
    path_column: str | None = None,
    keep: Sequence[str] = (),
    batch_size: int = 32,
    workers: int | None = None,
    strict: bool = False,
    progress: bool = True,
    chunk_rows: int = 2000,
    fetch_options: dict[str, Any] | None = None,
    every: str | None = None,
    segment_s: float = 30.0,
) -> Results:
    """Measure every image of ``source`` with ``tasks``; one tidy table out.

    Args:
        tasks: task names (``"quality"``) or task objects.
        source: a folder, glob, image, URL, ``.txt`` list, ``.csv``/``.parquet`` manifest, or list
            of paths/URLs (see :func:`imagevars.sources.resolve`).
        output: a ``.parquet``, ``.csv`` or ``.dta`` file to write; written in chunks as the run
            goes, so re-running the same call after a crash resumes where it stopped.
        path_column: the manifest column with paths or URLs.
        keep: manifest columns to carry into the table unchanged.
        batch_size: images per task call.
        workers: decode processes (default: the usable cores; 0 decodes in this process).
        strict: raise on the first input that cannot be measured instead of recording it.
        progress: show a progress bar with rate and ETA.
        chunk_rows: rows per part file while writing ``output``.
        fetch_options: for URLs: ``timeout``, ``retries``, ``max_bytes``, ``cache``.
        every: sample video frames: ``"1s"``, ``"0.5s"``, ``"10f"`` or ``"key"`` (see
            :mod:`imagevars.video`). With it, folders yield videos too, each sampled frame is a
            row keyed by ``source``, ``frame``, ``time_s``, and ``video_*`` columns describe the
            video (null for still images).
        segment_s: videos are measured (and resumed) in items of this many seconds of footage.

    Returns:
        :class:`~imagevars.table.Results`: ``source``, ``frame``, ``time_s``, ``error``, kept
        columns, then ``<task>_<variable>`` columns, with provenance.

    Example:
        >>> import imagevars
        >>> table = imagevars.run(["quality"], "PHOTOS/", "photo_vars.parquet")  # doctest: +SKIP
    """
    import numpy as np
    import pyarrow as pa
    from tqdm.auto import tqdm

    from ._env import threads
    from .sink import INDEX, PartsSink

    # 1. Check inputs
    tasks = [get_task(t) for t in tasks]
    if not tasks:
        raise ValueError("name at least one task, e.g. ['quality']")
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise ValueError(f"each task may appear once, got {names}")
    long_tasks = [t.name for t in tasks if getattr(t, "long", False)]
    if len(long_tasks) > 1:
        raise ValueError(f"one long-format task per run (a row per object), got {long_tasks}")
    src = resolve(source, path_column=path_column, keep=keep, videos=every is not None)
    if every is not None:
        from .video import Sampling

        every = str(Sampling.parse(every))
        src = src.with_videos(segment_s)
    n = src.count()
    workers = threads() if workers is None else workers
    max_side = _max_side(tasks)

    # 2. Schema and provenance
    keep_fields = [pa.field(k, src.types.get(k, pa.string())) for k in src.keep]
    task_fields = [f for t in tasks for f in t.fields()]
    video_fields = _video_fields() if every is not None else []
    schema = pa.schema([*key_schema(long=bool(long_tasks)), *keep_fields, *video_fields, *task_fields,
                        pa.field(INDEX, pa.int64())])
    long_names = [f.name for t in tasks if getattr(t, "long", False) for f in t.fields()]
    config = {"version": __version__, "tasks": [t.provenance() for t in tasks], "input": src.description,
              "keep": list(src.keep)}
    if every is not None:
        config["video"] = {"every": every, "segment_s": segment_s}
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")

    # 3. Where rows go, and what is already done
    sink = PartsSink(output, config, chunk_rows) if output is not None else None
    done = sink.done(n) if sink is not None else np.zeros(n, bool)
    memory: list = []
    counts = {"measured": 0, "errors": 0, "skipped": int(done.sum())}

    def emit(rows: list[tuple[Item, list | None, str | None]]) -> None:
        rows, frame_keys = _frames_as_rows(rows)
        ok = [(i, feats) for i, (_, feats, err) in enumerate(rows) if err is None]  # (row position, features)
        columns: dict[str, list] = {f.name: [None] * len(rows) for f in task_fields}
        if ok:
            for k, task in enumerate(tasks):
                out = task([feats[k] for _, feats in ok])
                for name, values in out.items():
                    for (i, _), v in zip(ok, values):
                        columns[name][i] = v
        data = {
            "source": [it.source for it, _, _ in rows], "frame": [k[0] for k in frame_keys],
            "time_s": [k[1] for k in frame_keys], "error": [err for _, _, err in rows],
            **{k: [it.extra[j] for it, _, _ in rows] for j, k in enumerate(src.keep)},
            **{f.name: [None if k[2] is None else k[2][j] for k in frame_keys] for j, f in enumerate(video_fields)},
            **columns, INDEX: [it.index for it, _, _ in rows],
        }
        if long_names:
            data = _one_row_per_object(data, long_names)
        batch = pa.RecordBatch.from_pydict(data, schema=schema)
        (sink.add if sink is not None else memory.append)(batch)

    # 4. Stream
    todo = (it for it in src if not done[it.index])
    init_args = ([t.preprocessor() for t in tasks], max_side, fetch_options or {}, every)
    pending: list = []
    pending_rows = 0  # a video item brings one row per sampled frame
    t0 = time.perf_counter()
    try:
        with tqdm(total=n, initial=counts["skipped"], unit="img" if every is None else "item", desc=",".join(names),
                  disable=not progress, dynamic_ncols=True, file=sys.stderr) as bar:
            for item, (_, feats, err) in _stream(todo, workers, max(1, min(16, batch_size)), init_args,
                                                 total=n - counts["skipped"]):
                problem = err if err is not None or item.span is None else next(
                    (e[4] for e in feats if e[4] is not None), None)
                if problem is not None:
                    if strict:
                        raise RunError(f"{problem} (strict run: stopping at the first error)")
                    counts["errors"] += 1
                else:
                    counts["measured"] += 1
                pending.append((item, feats, err))
                pending_rows += len(feats) if item.span is not None and err is None else 1
                if pending_rows >= batch_size:
                    emit(pending)
                    pending, pending_rows = [], 0
                bar.update(1)
            if pending:
                emit(pending)
    except KeyboardInterrupt:
        if sink is not None:  # keep what is measured: re-running the command resumes from here
            if pending:
                emit(pending)
            sink.flush()
            print(f"\ninterrupted: rows so far are saved in {sink.parts}; run the same command again to resume",
                  file=sys.stderr)
        raise

    # 5. One table out
    provenance = {**config, "started": started, "seconds": round(time.perf_counter() - t0, 3),
                  "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "counts": counts}
    if sink is not None:
        return sink.finish(provenance, schema)
    table = pa.Table.from_batches(memory, schema=schema) if memory else schema.empty_table()
    return Results(table.drop_columns([INDEX]), provenance)


def measure_image(tasks: Sequence[Task], data: bytes, name: str) -> dict[str, Any]:
    """One image given as bytes, measured in this process as :func:`run` measures a file: ``{column: value}``.

    For interactive front ends (the Telegram bot) that hold loaded tasks and get one image at a
    time. Raises :class:`~imagevars.decode.DecodeError` naming ``name`` if the bytes are not an image.

    Example:
        >>> from imagevars.tasks import get_task
        >>> row = measure_image([get_task("quality")], open("photo.jpg", "rb").read(), "photo.jpg")  # doctest: +SKIP
        >>> row["quality_brightness"]  # doctest: +SKIP
    """
    decoded = decode(data, name, _max_side(tasks))
    row: dict[str, Any] = {}
    for task in tasks:
        row.update({k: v[0] for k, v in task([task.preprocessor()(decoded)]).items()})
    return row
