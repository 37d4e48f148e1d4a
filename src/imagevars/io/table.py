"""The one results table: rows keyed by source, frame and time, task columns after, provenance attached.

Every task returns a :class:`Results`. Keys come first (``source`` exactly as the user gave it,
``frame`` and ``time_s`` for video, ``error`` null or a one-line reason), then the columns the
user asked to carry from a manifest, then the task columns named ``<task>_<variable>``.
Provenance (package version, each task's model, weights sha256 and parameters, when it ran)
travels in the table's metadata and in the Parquet file's key-value metadata.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .files import atomic_write
from .names import STATA, format_names, label_for
from .provenance import normalise

KEYS = ("source", "frame", "time_s", "object", "error")  # `object` in long-format tables only
PROVENANCE_KEY = b"imagevars"


def check_columns(own: list[str], carried: list[str], how: str = "--keep") -> None:
    """Refuse, before any work, carried columns (a manifest's, a design's) that would clash with imagevars' own.

    Example:
        >>> check_columns(["source", "error", "quality_width"], ["brand", "source"])
        Traceback (most recent call last):
        ...
        ValueError: --keep source: the column 'source' would clash with imagevars' own column of that name; rename it in your file (or leave it out)
    """
    seen = set(own)
    for name in carried:
        if name in seen:
            raise ValueError(
                f"{how} {name}: the column {name!r} would clash with imagevars' own column of that "
                "name; rename it in your file (or leave it out)"
            )
        seen.add(name)


def key_schema(long: bool = False):
    """The pyarrow fields of the key columns; ``long`` adds ``object`` (index of the object in its frame)."""
    import pyarrow as pa

    keys = [pa.field("source", pa.string()), pa.field("frame", pa.int64()), pa.field("time_s", pa.float64())]
    if long:
        keys.append(pa.field("object", pa.int64()))
    return keys + [pa.field("error", pa.string())]


class Results:
    """A tidy table (one row per image or frame) with its provenance.

    A run that wrote its rows to a Parquet file returns Results backed by that file: the table
    is read only when asked for, so a million-row run does not end by loading it all.

    Example:
        >>> import imagevars
        >>> table = imagevars.run(["quality"], "PHOTOS/")  # doctest: +SKIP
        >>> table.to_pandas().head()  # doctest: +SKIP
        >>> table.provenance["tasks"][0]["name"]  # doctest: +SKIP
        'quality'
    """

    def __init__(
        self,
        table: Any = None,
        provenance: dict[str, Any] | None = None,
        *,
        path: str | os.PathLike | None = None,
        n_rows: int | None = None,
        n_errors: int | None = None,
    ):
        if table is None and path is None:
            raise ValueError("Results needs a table or the path of a Parquet file")
        self._table = table
        self.provenance = provenance or {}
        self.path = Path(path) if path is not None else None
        self._n_rows, self._n_errors = n_rows, n_errors

    @property
    def table(self):
        """The pyarrow Table (read from ``path`` on first use when file-backed)."""
        if self._table is None:
            import pyarrow.parquet as pq

            self._table = pq.read_table(self.path)
        return self._table

    def __len__(self) -> int:
        return self._n_rows if self._table is None and self._n_rows is not None else self.table.num_rows

    @property
    def columns(self) -> list[str]:
        if self._table is None and self.path is not None:
            import pyarrow.parquet as pq

            return list(pq.read_schema(self.path).names)
        return list(self.table.column_names)

    @property
    def n_errors(self) -> int:
        if self._table is None and self._n_errors is not None:
            return self._n_errors
        return self.table.num_rows - self.table.column("error").null_count

    def errors(self):
        """The rows that could not be measured, as a pandas DataFrame (source, frame, error)."""
        import pyarrow.compute as pc

        if self._table is None and self.path is not None:  # filter while reading: memory ~ error rows
            import pyarrow.dataset as ds

            return (
                ds.dataset(self.path)
                .to_table(columns=["source", "frame", "error"], filter=pc.field("error").is_valid())
                .to_pandas()
            )
        return self.table.filter(pc.is_valid(self.table["error"])).select(["source", "frame", "error"]).to_pandas()

    def to_pandas(self):
        """A pandas DataFrame; provenance in ``df.attrs['imagevars']``. Integer columns stay integers (Int64)."""
        import pandas as pd
        import pyarrow as pa

        df = self.table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
        df.attrs["imagevars"] = self.provenance
        return df

    def with_metadata(self):
        """The pyarrow table with provenance in its schema metadata."""
        meta = dict(self.table.schema.metadata or {})
        meta[PROVENANCE_KEY] = json.dumps(self.provenance).encode()
        return self.table.replace_schema_metadata(meta)

    def write(self, path: str | os.PathLike) -> Path:
        """Write by suffix: ``.parquet``, ``.csv`` or ``.dta`` (Stata). Atomic: no partial file on failure."""
        path = Path(path)
        writer = {".parquet": self.to_parquet, ".csv": self.to_csv, ".dta": self.to_stata}.get(path.suffix.lower())
        if writer is None:
            raise ValueError(f"cannot write {path}: use a .parquet, .csv or .dta file name")
        return writer(path)

    def to_parquet(self, path: str | os.PathLike) -> Path:
        import pyarrow.parquet as pq

        return atomic_write(path, lambda tmp: pq.write_table(self.with_metadata(), tmp, compression="zstd"))

    def to_csv(self, path: str | os.PathLike) -> Path:
        """CSV, with the provenance beside it in ``<file>.provenance.json`` (CSV has no metadata)."""
        import pyarrow.csv as pcsv

        out = atomic_write(path, lambda tmp: pcsv.write_csv(self.table, tmp))
        write_sidecar(out, self.provenance)
        return out

    def to_stata(self, path: str | os.PathLike) -> Path:
        """Stata .dta (version 118); the provenance goes into the dataset label and a sidecar JSON.

        Names Stata cannot hold (over 32 characters, or other than letters, digits and ``_``) are shortened by
        :func:`imagevars.io.names.short_name`: the long name becomes the variable label, the change is listed
        under ``renamed`` in the sidecar and said in a warning."""
        import pandas as pd
        import pyarrow as pa

        df = self.table.to_pandas()  # Stata has no nullable integers: missing values become floats
        dates = {}
        for f in self.table.schema:  # ... and no null strings: its missing string is ""
            if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
                df[f.name] = df[f.name].fillna("").astype(str)
            elif pa.types.is_date(f.type) or pa.types.is_timestamp(f.type):
                df[f.name] = (
                    pd.to_datetime(df[f.name]).dt.tz_localize(None)
                    if pa.types.is_timestamp(f.type) and f.type.tz
                    else pd.to_datetime(df[f.name])
                )
                dates[f.name] = "td" if pa.types.is_date(f.type) else "tc"
        renamed = format_names(list(df.columns), STATA)
        df = df.rename(columns=renamed)
        dates = {renamed.get(k, k): v for k, v in dates.items()}
        out = atomic_write(
            path,
            lambda tmp: df.to_stata(
                tmp,
                write_index=False,
                version=118,
                convert_dates=dates,
                data_label=f"imagevars {self.provenance.get('version', '')}"[:80],
                variable_labels={new: label_for(old) for old, new in renamed.items()},
            ),
        )
        write_sidecar(out, {**self.provenance, "renamed": {"stata": renamed}} if renamed else self.provenance)
        if renamed:
            say_renamed(out, renamed, STATA)
        return out

    @classmethod
    def read(cls, path: str | os.PathLike) -> Results:
        """Read a Parquet file written by imagevars, with its provenance.

        Example:
            >>> Results.read("vars.parquet").provenance["version"]  # doctest: +SKIP
        """
        import pyarrow.parquet as pq

        meta = (pq.read_schema(path).metadata or {}).get(PROVENANCE_KEY)
        return cls(provenance=normalise(json.loads(meta)) if meta else {}, path=path)

    def __repr__(self) -> str:
        tasks = ", ".join(t["name"] for t in self.provenance.get("tasks", []))
        return f"Results({len(self)} rows, {len(self.columns)} columns, tasks: {tasks or '-'}, errors: {self.n_errors})"


def say_renamed(path, renamed: dict[str, str], rule) -> None:
    """The one-line note of every column a format renamed (a warning: shown once on stderr, catchable)."""
    import warnings

    pairs = "; ".join(f"{old!r} -> {new!r}" for old, new in renamed.items())
    warnings.warn(
        f"{path}: {len(renamed)} column name(s) changed for {rule.format} (at most {rule.limit} "
        f"characters of letters, digits and _): {pairs}; each long name is its variable's label and "
        f"is listed under 'renamed' in {path}.provenance.json",
        UserWarning,
        stacklevel=3,
    )


def write_sidecar(path: str | os.PathLike, provenance: dict[str, Any]) -> Path:
    """Provenance beside a file that has no metadata of its own: ``<file>.provenance.json``."""
    text = json.dumps(provenance, indent=2) + "\n"
    return atomic_write(f"{path}.provenance.json", lambda tmp: Path(tmp).write_text(text))
