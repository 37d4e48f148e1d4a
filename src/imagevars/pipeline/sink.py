"""Writing results as they come: atomic Parquet parts, resume from them, one file at the end.

While a run is going, rows are written in chunks to ``<output>.parts/part-*.parquet`` (each
written to a temporary name and renamed, so a crash never leaves half a part). Re-running the
same command reads which inputs the parts already cover (only their ``_index`` column) and
skips them. At the end the parts are joined in input order into the requested file and removed:
the final table has exactly the rows of an uninterrupted run, none lost, none twice.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..io.table import PROVENANCE_KEY, Results, write_sidecar
from ..io.files import atomic_write

INDEX = "_index"


class PartsSink:
    """Chunked, resumable writer for one output file.

    Args:
        output: the final file (.parquet, .csv or .dta).
        config: what defines the run (tasks, parameters, input, kept columns); parts written
            under another config are refused rather than mixed.
        chunk_rows: rows per part file.
    """

    def __init__(self, output: str | os.PathLike, config: dict[str, Any], chunk_rows: int = 2000):
        self.output = Path(output)
        if self.output.suffix.lower() not in (".parquet", ".csv", ".dta"):
            raise ValueError(f"cannot write {self.output}: use a .parquet, .csv or .dta file name")
        self.parts = self.output.with_name(self.output.name + ".parts")
        self.config = config
        self.chunk_rows = chunk_rows
        self._buffer: list[Any] = []  # pyarrow record batches
        self._buffered = 0
        self._schema = None
        self._open()

    def _open(self) -> None:
        config_file = self.parts / "config.json"
        if self.parts.exists() and config_file.exists():
            previous = json.loads(config_file.read_text())
            if previous != json.loads(json.dumps(self.config)):
                raise ValueError(
                    f"{self.parts} holds a run with other settings; delete it to start afresh, or write to "
                    "another output file"
                )
        else:
            text = json.dumps(self.config, indent=2)
            atomic_write(config_file, lambda tmp: Path(tmp).write_text(text))
        for stale in self.parts.glob(".*.tmp"):
            stale.unlink()

    def done(self, n: int) -> np.ndarray:
        """A boolean mask over the n inputs: True where parts already hold the row."""
        import pyarrow.parquet as pq

        mask = np.zeros(n, bool)
        for part in sorted(self.parts.glob("part-*.parquet")):
            idx = pq.read_table(part, columns=[INDEX]).column(INDEX).to_numpy()
            mask[idx[idx < n]] = True
        return mask

    def add(self, batch) -> None:
        """Buffer a pyarrow RecordBatch (with the ``_index`` column); flush whole chunks."""
        self._schema = batch.schema
        self._buffer.append(batch)
        self._buffered += batch.num_rows
        if self._buffered >= self.chunk_rows:
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
        self._buffer, self._buffered = [], 0

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
        out_schema = pa.schema([f for f in schema if f.name != INDEX])
        suffix = self.output.suffix.lower()
        n_rows = n_errors = 0

        def tables():
            nonlocal n_rows, n_errors
            for part in parts:
                t = pq.read_table(part, schema=schema).sort_by(_order(schema)).drop_columns([INDEX])
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
            table = pa.concat_tables([pq.read_table(p, schema=schema) for p in parts]) if parts else schema.empty_table()
            results = Results(table.sort_by(_order(schema)).drop_columns([INDEX]), provenance)
            results.write(self.output)
        elif suffix == ".parquet":
            atomic_write(self.output, stream)
            results = Results(provenance=provenance, path=self.output, n_rows=n_rows, n_errors=n_errors)
        else:
            atomic_write(self.output, stream)
            write_sidecar(self.output, provenance)
            results = Results(pcsv.read_csv(self.output, convert_options=pcsv.ConvertOptions(
                column_types=out_schema, strings_can_be_null=True)), provenance)
        shutil.rmtree(self.parts)
        return results


def _order(schema) -> list[tuple[str, str]]:
    """Input order, then object order within an image for long-format tables."""
    keys = [(INDEX, "ascending")]
    return keys + [("object", "ascending")] if "object" in schema.names else keys


def _span(part: Path) -> tuple[int, int]:
    """[first, end) of the input indices a part covers, from its name ``part-<first>-<end>.parquet``.

    A part holds whole inputs only (an image's object rows are never split between parts), so
    an input whose index is in a part is done.
    """
    _, first, end = part.stem.split("-")
    return int(first), int(end)
