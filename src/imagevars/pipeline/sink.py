"""Writing results as they come: atomic Parquet parts, resume from them, one file at the end.

While a run is going, rows are written in chunks to ``<output>.parts/part-*.parquet`` (each
written to a temporary name and renamed, so a crash never leaves half a part), at least every
``flush_s`` seconds. Every row carries its input's identity (``_key``: source, occurrence, video
segment) and position (``_index``). Re-running the same command skips the inputs the parts
already hold: by position when the inputs are the same as before (their fingerprint matches),
by identity when they changed (files added, removed, reordered): rows of inputs that are gone
are dropped and the rest take their new positions. At the end the parts are joined in input
order into the requested file and removed: the final table has exactly the rows of an
uninterrupted run on the current inputs, none lost, none twice.

One run at a time writes an output: the parts folder holds a lock (filelock's: ``flock`` on
POSIX, ``msvcrt.locking`` on Windows; released by the operating system when the process ends,
even when killed), and a second run is told which process holds it (``<parts>/lock.holder``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..io.files import atomic_write
from ..io.table import PROVENANCE_KEY, Results, write_sidecar

INDEX = "_index"  # the input's position in this run
KEY = "_key"  # the input's identity (imagevars.io.sources.item_key)


class OutputBusy(RuntimeError):
    """Another run is writing the same output."""


class PartsSink:
    """Chunked, resumable writer for one output file.

    Args:
        output: the final file (.parquet, .csv or .dta).
        config: what defines the run (tasks, parameters, input, kept columns); parts written
            under another config are refused rather than mixed.
        chunk_rows: rows per part file.
        inputs: (number, sha256) of the run's input keys (:meth:`Source.fingerprint`).
        flush_s: a part is written at least this often while rows come in.
    """

    def __init__(
        self,
        output: str | os.PathLike,
        config: dict[str, Any],
        chunk_rows: int = 2000,
        inputs: tuple[int, str] = (0, ""),
        flush_s: float = 60.0,
        resume: str = "auto",
    ):
        self.output = Path(output)
        if self.output.suffix.lower() not in (".parquet", ".csv", ".dta"):
            raise ValueError(f"cannot write {self.output}: use a .parquet, .csv or .dta file name")
        self.parts = self.output.with_name(self.output.name + ".parts")
        if resume not in ("auto", "strict"):
            raise ValueError(f"resume={resume!r}: use 'auto' (measure rows made by other weights again) or 'strict'")
        self.config, self.resume = config, resume
        self.chunk_rows = chunk_rows
        self.inputs = {"n": inputs[0], "sha256": inputs[1]}
        self.flush_s = flush_s
        self._buffer: list[Any] = []  # pyarrow record batches
        self._buffered = 0
        self._flushed_at = time.monotonic()
        self._schema = None
        self._lock = None
        try:
            self._open()
        except BaseException:  # refused (other settings, other weights): the output is free for the next try
            self.release()
            raise

    def _take_lock(self) -> None:
        """Hold ``<parts>/lock`` for this process, or say which process holds it."""
        import platform

        from filelock import FileLock, Timeout

        self.parts.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.parts / "lock", timeout=0, thread_local=False, is_singleton=False, fallback_to_soft=False)
        holder = self.parts / "lock.holder"
        try:
            lock.acquire()
        except Timeout:
            try:
                who = holder.read_text(encoding="utf-8").strip()
            except OSError:
                who = ""
            raise OutputBusy(
                f"{self.output} is being written by another run ({who or 'another process'}); wait "
                "for it to end, or write to another output file"
            ) from None
        holder.write_text(f"process {os.getpid()} on {platform.node()}", encoding="utf-8")
        self._lock = lock

    def release(self) -> None:
        """Let another run write this output (also happens when this process ends)."""
        if self._lock is not None:
            self._lock.release(force=True)
            self._lock = None

    def _open(self) -> None:
        self._take_lock()
        config_file = self.parts / "config.json"
        previous = json.loads(config_file.read_text()) if config_file.exists() else None
        now = json.loads(json.dumps(self.config))
        if previous is not None and previous != now:
            if _without_weights(previous) != _without_weights(now):
                raise ValueError(
                    f"{self.parts} holds a run with other settings; delete it to start afresh, or "
                    "write to another output file"
                )
            why = _other_weights(self.parts, previous, now)
            if self.resume == "strict":
                raise ValueError(
                    f"{why}: none are kept under the new weights; run without --resume strict to "
                    "measure them again, or write to another output file"
                )
            self._drop_rows(why)
        if previous != now:
            text = json.dumps(self.config, indent=2)
            atomic_write(config_file, lambda tmp: Path(tmp).write_text(text))
        for stale in self.parts.glob(".*.tmp"):  # only this process writes here now: leftovers of a killed run
            stale.unlink()

    def _drop_rows(self, why: str) -> None:
        """Drop the rows other weights made (every row here: one run, one set of weights) and say so."""
        import warnings

        for path in self.parts.iterdir():
            if path.name in ("lock", "lock.holder"):
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        warnings.warn(
            f"{why}: measuring every row again with these weights (--resume strict refuses instead)",
            UserWarning,
            stacklevel=4,
        )

    def done(self, items) -> np.ndarray:
        """A boolean mask over the current inputs (``items``, in order): True where parts already hold the rows.

        Parts made from other inputs are first rewritten to the current ones (see the module docstring).
        """
        inputs_file = self.parts / "inputs.json"
        mask = np.zeros(self.inputs["n"], bool)
        parts = sorted(self.parts.glob("part-*.parquet"))
        if parts and (not inputs_file.exists() or json.loads(inputs_file.read_text()) != self.inputs):
            self._reconcile(parts, items, mask)
        else:
            import pyarrow.parquet as pq

            for part in parts:
                idx = pq.read_table(part, columns=[INDEX]).column(INDEX).to_numpy()
                mask[idx[idx < len(mask)]] = True
        text = json.dumps(self.inputs)
        atomic_write(inputs_file, lambda tmp: Path(tmp).write_text(text))
        return mask

    def _reconcile(self, parts: list[Path], items, mask: np.ndarray) -> None:
        """Rewrite parts made from other inputs: rows of inputs that are gone dropped, the rest at their new positions.

        A key whose rows are in two parts (a reconcile killed before it removed the old part)
        keeps one copy. Idempotent: killed at any point, the next run reconciles again.
        """
        import uuid

        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        (self.parts / "inputs.json").unlink(missing_ok=True)  # until this ends, the next run reconciles too
        held = set()
        for part in parts:
            if KEY not in pq.read_schema(part).names:
                raise ValueError(
                    f"{self.parts} was written by an older imagevars, which did not record the inputs' "
                    "identities; delete it to start afresh"
                )
            held.update(pq.read_table(part, columns=[KEY]).column(KEY).to_pylist())
        stamp = uuid.uuid4().hex[:8]  # rewritten parts never take the name of a part not yet read
        position = {}
        for item in items:
            if item.key in held:
                position[item.key] = item.index
                mask[item.index] = True
        taken: set = set()
        for part in parts:
            table = pq.read_table(part)
            keys = table.column(KEY).to_pylist()
            fresh = {k for k in set(keys) if k in position and k not in taken}
            keep = pa.array([k in fresh for k in keys])
            table = table.filter(keep)
            taken |= fresh
            new_index = pa.array([position[k] for k in table.column(KEY).to_pylist()], pa.int64())
            table = table.set_column(table.schema.get_field_index(INDEX), INDEX, new_index)
            if table.num_rows:
                table = table.sort_by(_order(table.schema))
                first, end = int(pc.min(new_index).as_py()), int(pc.max(new_index).as_py()) + 1
                name = f"part-{first:012d}-{end:012d}-{stamp}.parquet"
                atomic_write(self.parts / name, lambda tmp, t=table: pq.write_table(t, tmp))
            part.unlink()

    def add(self, batch) -> None:
        """Buffer a pyarrow RecordBatch (with ``_index`` and ``_key``); flush whole chunks, or after ``flush_s``."""
        self._schema = batch.schema
        self._buffer.append(batch)
        self._buffered += batch.num_rows
        if self._buffered >= self.chunk_rows or time.monotonic() - self._flushed_at >= self.flush_s:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._buffered:
            return
        table = pa.Table.from_batches(self._buffer, schema=self._schema)
        index = table.column(INDEX)
        first, end = int(index[0].as_py()), int(index[-1].as_py()) + 1
        name = f"part-{first:012d}-{end:012d}.parquet"  # read back by _span
        atomic_write(self.parts / name, lambda tmp: pq.write_table(table, tmp))
        self._buffer, self._buffered, self._flushed_at = [], 0, time.monotonic()

    def finish(self, provenance: dict[str, Any], schema) -> Results:
        """Join the parts in input order into the output file and remove them.

        Each run handles the inputs still to do in increasing order and writes them in
        consecutive chunks, so parts cover disjoint index ranges: sorted by their first index
        they stream straight into the output (memory: one part at a time). Parquet and CSV are
        written that way; a Stata file is built in memory, as pandas writes it.
        """
        import pyarrow as pa
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        self.flush()
        parts = sorted(self.parts.glob("part-*.parquet"))
        spans = [_span(p) for p in parts]
        out_schema = pa.schema([f for f in schema if f.name not in (INDEX, KEY)])
        suffix = self.output.suffix.lower()
        n_rows = n_errors = 0

        def tables():
            nonlocal n_rows, n_errors
            for part in parts:
                t = pq.read_table(part, schema=schema).sort_by(_order(schema)).drop_columns([INDEX, KEY])
                n_rows += t.num_rows
                n_errors += t.num_rows - t.column("error").null_count
                yield t

        def stream(tmp: str) -> None:
            if suffix == ".parquet":
                meta = {PROVENANCE_KEY: json.dumps(provenance).encode()}
                with pq.ParquetWriter(tmp, out_schema.with_metadata(meta), compression="zstd") as writer:
                    for t in tables():
                        writer.write_table(t)
            else:
                with pcsv.CSVWriter(tmp, out_schema) as writer:
                    for t in tables():
                        writer.write_table(t)

        contiguous = all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
        if suffix == ".dta" or not contiguous:
            table = (
                pa.concat_tables([pq.read_table(p, schema=schema) for p in parts]) if parts else schema.empty_table()
            )
            results = Results(table.sort_by(_order(schema)).drop_columns([INDEX, KEY]), provenance)
            results.write(self.output)
        elif suffix == ".parquet":
            atomic_write(self.output, stream)
            results = Results(provenance=provenance, path=self.output, n_rows=n_rows, n_errors=n_errors)
        else:
            atomic_write(self.output, stream)
            write_sidecar(self.output, provenance)
            results = Results(
                pcsv.read_csv(
                    self.output, convert_options=pcsv.ConvertOptions(column_types=out_schema, strings_can_be_null=True)
                ),
                provenance,
            )
        self.release()
        shutil.rmtree(self.parts)
        return results


def _order(schema) -> list[tuple[str, str]]:
    """Input order, then object order within an image for long-format tables."""
    keys = [(INDEX, "ascending")]
    return keys + [("object", "ascending")] if "object" in schema.names else keys


def _span(part: Path) -> tuple[int, int]:
    """[first, end) of the input indices a part covers, from its name ``part-<first>-<end>[-<stamp>].parquet``.

    A part holds whole inputs only (an image's object rows are never split between parts), so
    an input whose index is in a part is done.
    """
    _, first, end, *_ = part.stem.split("-")  # part-<first>-<end>[-<stamp> when reconciled]
    return int(first), int(end)


# what a task's record says of its weights (and nothing else): their sha256, a hub commit, a tensor fingerprint
WEIGHT_KEYS = ("weights_sha256", "commit", "weights_digest")


def _without_weights(config: dict) -> dict:
    """``config`` less what identifies the weights, at any depth (a hub model's record sits inside its task's)."""

    def strip(d: dict) -> dict:
        return {k: strip(v) if isinstance(v, dict) else v for k, v in d.items() if k not in WEIGHT_KEYS}

    return {**config, "tasks": [strip(t) for t in config.get("tasks", [])]}


def _other_weights(parts: Path, previous: dict, now: dict) -> str:
    """Which model's weights changed since the rows in ``parts`` were made, with both digests. Called when only
    the weights differ: the tasks are the same ones, in the same order, and one record differs."""
    task, old = next((t, p) for t, p in zip(now["tasks"], previous["tasks"]) if t != p)
    return (
        f"{parts} holds rows that {task.get('model') or task.get('name')} made with other weights "
        f"(sha256 {str(old.get('weights_sha256'))[:12]}…, now {str(task.get('weights_sha256'))[:12]}…)"
    )
