"""The runner, the driver of every measurement: inputs -> engine -> batches -> tasks -> sink -> one table.

It resolves the inputs, owns the table's schema, provenance, sink and resume, and hands the
inputs still to measure to an engine (:mod:`imagevars.engines.local`: worker processes that
decode and run each task's ``preprocess``). Their outputs come back in input order and are
batched into the tasks' ``__call__`` in this process. A file that cannot be read becomes one
row with ``error`` set; the run goes on unless ``strict``.

The runner knows the task protocol (:class:`imagevars.tasks.base.Task`), not the tasks: callers
pass task objects (``imagevars.run`` and the command line build them from names).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._env import threads
from .._version import __version__
from ..engines.local import call_tasks, decode_sides
from ..io import provenance
from ..io.decode import decode_each
from ..io.redact import redact
from ..io.sources import Item, Source, resolve
from ..io.table import Results, check_columns, key_schema
from .engines import connect, engine_record, engine_stream, resolve_tasks
from .sink import INDEX, KEY, PartsSink


class RunError(RuntimeError):
    """A strict run met an input it could not measure."""


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


@dataclass
class _Plan:
    """What a run makes: its tasks, inputs, table schema and settings (the part of provenance known upfront)."""

    tasks: list
    src: Source
    every: str | None
    schema: Any
    task_fields: list
    video_fields: list
    long_names: list[str]
    config: dict[str, Any]
    counts: dict[str, int] = field(default_factory=lambda: {"measured": 0, "errors": 0, "skipped": 0})
    computed: bool = False  # True when the engine runs the tasks too (a cluster, local workers), not only preprocessing
    layout: dict = field(default_factory=dict)  # where the engine ran the models (pipeline.engines.engine_stream)

    def batch(self, rows: list[tuple[Item, list | None, str | None]]):
        """Rows of measured items -> one RecordBatch: task calls on the good ones, keys, kept and video columns."""
        import pyarrow as pa

        rows, frame_keys = _frames_as_rows(rows)
        # (row position, features)
        ok: list[tuple[int, Any]] = [(i, feats) for i, (_, feats, err) in enumerate(rows) if err is None]
        columns: dict[str, list] = {f.name: [None] * len(rows) for f in self.task_fields}
        if ok and self.computed:  # the engine's workers ran the tasks: each row brings its output columns
            for i, outputs in ok:
                for name, v in outputs.items():
                    columns[name][i] = v
        elif ok:  # a task that fails on one image makes that image an error row, the others are kept
            outputs, errors = call_tasks(self.tasks, [feats for _, feats in ok])
            for (i, _), out, err in zip(ok, outputs, errors):
                if err is not None:
                    rows[i] = (rows[i][0], None, err)
                    self.counts["measured"] -= 1  # counted as measured when it was decoded
                    self.counts["errors"] += 1
                for name, v in out.items():
                    columns[name][i] = v
        data = {
            "source": [it.source for it, _, _ in rows], "frame": [k[0] for k in frame_keys],
            "time_s": [k[1] for k in frame_keys], "error": [err for _, _, err in rows],
            **{k: [it.extra[j] for it, _, _ in rows] for j, k in enumerate(self.src.keep)},
            **{f.name: [None if k[2] is None else k[2][j] for k in frame_keys] for j, f in enumerate(self.video_fields)},
            **columns, INDEX: [it.index for it, _, _ in rows], KEY: [it.key for it, _, _ in rows],
        }
        if self.long_names:
            data = _one_row_per_object(data, self.long_names)
        return pa.RecordBatch.from_pydict(data, schema=self.schema)


def _check_tasks(tasks: Sequence[Any]) -> list:
    tasks = list(tasks)
    if not tasks:
        raise ValueError("name at least one task, e.g. ['quality']")
    named = [t for t in tasks if isinstance(t, str)]
    if named:
        raise TypeError(f"the runner takes task objects, got the name(s) {named}: imagevars.run({named!r}, ...) "
                        "or imagevars.tasks.get_task(name) builds them")
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise ValueError(f"each task may appear once, got {names}")
    long_tasks = [t.name for t in tasks if getattr(t, "long", False)]
    if len(long_tasks) > 1:
        raise ValueError(f"one long-format task per run (a row per object), got {long_tasks}")
    return tasks


def _plan(tasks: list, source: Any, path_column: str | None, keep: Sequence[str], every: str | None,
          segment_s: float) -> _Plan:
    """1-2. Resolve the inputs; the table's schema and the settings provenance records."""
    import pyarrow as pa

    src = resolve(source, path_column=path_column, keep=keep, videos=every is not None)
    if every is not None:
        from ..io.video import Sampling

        every = str(Sampling.parse(every))
        src = src.with_videos(segment_s)
    long = any(getattr(t, "long", False) for t in tasks)
    keep_fields = [pa.field(k, src.types.get(k, pa.string())) for k in src.keep]
    task_fields = [f for t in tasks for f in t.fields()]
    video_fields = _video_fields() if every is not None else []
    schema = pa.schema([*key_schema(long=long), *keep_fields, *video_fields, *task_fields, pa.field(INDEX, pa.int64()),
                        pa.field(KEY, pa.string())])
    check_columns([f.name for f in key_schema(long=True) + video_fields + task_fields] + [INDEX, KEY],
                   list(src.keep))
    long_names = [f.name for t in tasks if getattr(t, "long", False) for f in t.fields()]
    config: dict[str, Any] = {"tasks": [t.provenance() for t in tasks], "input": redact(src.description),
                              "keep": list(src.keep)}
    if every is not None:
        config["video"] = {"every": every, "segment_s": segment_s}
    return _Plan(tasks, src, every, schema, task_fields, video_fields, long_names, config)


def _measure_all(plan: _Plan, todo, n_todo: int, emit, *, workers: int, batch_size: int, strict: bool,
                 progress: bool, fetch_options: dict[str, Any], cluster=None) -> None:
    """4. Stream the inputs still to do through the engine; ``emit`` takes every ``batch_size`` rows."""
    from tqdm.auto import tqdm

    counts, pending, pending_rows = plan.counts, [], 0  # a video item brings one row per sampled frame
    names = ",".join(t.name for t in plan.tasks)
    try:
        with tqdm(total=n_todo + counts["skipped"], initial=counts["skipped"], unit="img" if plan.every is None
                  else "item", desc=names, disable=not progress, dynamic_ncols=True, file=sys.stderr) as bar:
            for item, (_, feats, err) in engine_stream(plan, todo, n_todo, workers, batch_size, fetch_options,
                                                        cluster):
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
    except KeyboardInterrupt:  # what was measured is kept: a re-run resumes from here
        if pending:
            emit(pending)
        raise
    if pending:
        emit(pending)


def _open_sink(output, source, plan: _Plan, chunk_rows: int, resume: str) -> tuple[PartsSink | None, int]:
    """3. The sink for ``output`` (locked to this run) and the number of inputs; None without an output."""
    if output is None:
        return None, plan.src.count()
    if isinstance(source, (str, os.PathLike)) and (
            os.path.abspath(output) == os.path.abspath(source)
            or os.path.exists(source) and os.path.exists(output) and os.path.samefile(output, source)):
        raise ValueError(f"the output {output} is the input {source}: writing the table there would replace it; "
                         "write to another file")
    n, fingerprint = plan.src.fingerprint()
    config = {"version": __version__, **plan.config}
    return PartsSink(output, config, chunk_rows, inputs=(n, fingerprint), resume=resume), n


@contextlib.contextmanager
def _saved_on_interrupt(sink: PartsSink | None):
    """On Ctrl-C, write what the sink holds and say how to resume, then stop."""
    try:
        yield
    except KeyboardInterrupt:
        if sink is not None:
            sink.flush()
            print(f"\ninterrupted: rows so far are saved in {sink.parts}; run the same command again to resume",
                  file=sys.stderr)
        raise


def run(
    tasks: Sequence[Any],
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
    engine: str = "local",
    engine_options: dict[str, Any] | None = None,
    resume: str = "auto",
) -> Results:
    """Measure every image of ``source`` with ``tasks``; one tidy table out.

    Args:
        tasks: task objects (:func:`imagevars.tasks.get_task` builds them from names;
            :func:`imagevars.run` takes names too).
        source: a folder, glob, image, URL, ``.txt`` list, ``.csv``/``.parquet`` manifest, or list
            of paths/URLs (see :func:`imagevars.io.sources.resolve`).
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
            :mod:`imagevars.io.video`). With it, folders yield videos too, each sampled frame is a
            row keyed by ``source``, ``frame``, ``time_s``, and ``video_*`` columns describe the
            video (null for still images).
        segment_s: videos are measured (and resumed) in items of this many seconds of footage.
        engine: ``"local"`` (worker processes on this machine), ``"dask"`` or ``"ray"`` (a cluster whose
            workers or actors build and run the tasks). The table is the same; a run started on one
            engine resumes on the other.
        engine_options: a cluster's address and sizes: :func:`imagevars.pipeline.engines.connect`.
        resume: rows ``output`` holds from a model whose weights have changed since are measured again
            (``"auto"``, saying so) or refused (``"strict"``); see :class:`~imagevars.pipeline.sink.PartsSink`.

    Returns:
        :class:`~imagevars.io.table.Results`: ``source``, ``frame``, ``time_s``, ``error``, kept
        columns, then ``<task>_<variable>`` columns, with provenance.

    Example:
        >>> import imagevars
        >>> from imagevars.tasks import get_task
        >>> table = run([get_task("quality")], "PHOTOS/", "photo_vars.parquet")  # doctest: +SKIP
    """
    engine_options = dict(engine_options or {})
    workers = threads() if workers is None else workers
    clock = provenance.begin()
    with connect(engine, engine_options, workers) as client:
        # 1-2. Check inputs; schema and settings
        plan = _plan(_check_tasks(resolve_tasks(tasks, engine, client, engine_options)), source, path_column, keep,
                     every, segment_s)
        cluster = None if client is None else {"client": client, "engine": engine, "options": engine_options}
        # 3-5. Where rows go and what is already done; stream; one table out
        return _measure_into(plan, output, source, chunk_rows, clock, engine, resume, workers=workers,
                             batch_size=batch_size,
                             strict=strict, progress=progress, fetch_options=fetch_options or {}, cluster=cluster)


def _measure_into(plan: _Plan, output, source: Any, chunk_rows: int, clock, engine: str, resume: str,
                  **stream: Any) -> Results:
    """3-5. Open the sink (or a list in memory), skip what is done, measure the rest, finish the table."""
    import numpy as np
    import pyarrow as pa

    memory: list = []
    # 3. Where rows go, and what is already done
    sink, n = _open_sink(output, source, plan, chunk_rows, resume)
    try:
        done = sink.done(plan.src) if sink is not None else np.zeros(n, bool)
        plan.counts["skipped"] = int(done.sum())

        # 4. Stream
        with _saved_on_interrupt(sink):
            _measure_all(plan, (it for it in plan.src if not done[it.index]), n - plan.counts["skipped"],
                         lambda rows: (sink.add if sink is not None else memory.append)(plan.batch(rows)), **stream)

        # 5. One table out
        record = provenance.record(clock, plan.config.pop("tasks"), **plan.config, counts=plan.counts,
                                   engine=engine_record(engine, plan.layout))
        if sink is not None:
            return sink.finish(record, plan.schema)
    finally:  # whatever happened, the next run may write this output
        if sink is not None:
            sink.release()
    table = pa.Table.from_batches(memory, schema=plan.schema) if memory else plan.schema.empty_table()
    return Results(table.drop_columns([INDEX, KEY]), record)


def measure_image(tasks: Sequence[Any], data: bytes, name: str) -> dict[str, Any]:
    """One image given as bytes, measured in this process as :func:`run` measures a file: ``{column: value}``.

    For interactive front ends (the Telegram bot) that hold loaded tasks and get one image at a
    time. Raises :class:`~imagevars.io.decode.DecodeError` naming ``name`` if the bytes are not an image.

    Example:
        >>> from imagevars.tasks import get_task
        >>> row = measure_image([get_task("quality")], open("photo.jpg", "rb").read(), "photo.jpg")  # doctest: +SKIP
        >>> row["quality_brightness"]  # doctest: +SKIP
    """
    row: dict[str, Any] = {}
    for task, decoded in zip(tasks, decode_each(data, name, decode_sides(tasks))):
        row.update({k: v[0] for k, v in task([task.preprocessor()(decoded)]).items()})
    return row
