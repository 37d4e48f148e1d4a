"""Generated stimuli: PNG files, each with its row, and one table of all of them.

Columns (after the keys; ``source`` is the PNG file written):

- ``generate_prompt``, ``generate_negative_prompt``, ``generate_seed``, ``generate_steps``,
  ``generate_guidance``, ``generate_width``, ``generate_height``: what was asked, defaults filled in.
- ``generate_model`` (as named), ``generate_revision`` (as asked), ``generate_commit`` (the hub
  commit loaded; empty for a local folder), ``generate_scheduler``, ``generate_device``,
  ``generate_dtype``: what drew it.
- ``generate_prompt_tokens``, ``generate_prompt_truncated``: the prompt's length in tokens and
  whether the text encoder cut it (it reads 77 tokens in Stable Diffusion).
- ``generate_nsfw``: the pipeline's safety checker flagged the image and blacked it out (null
  where the pipeline has no checker); such a row also gets ``error`` set.
- ``generate_sha256``: sha256 of the image's RGB pixel bytes (row by row), so metadata and PNG
  compression do not change it; :func:`pixel_sha256` recomputes it from a file.
- ``generate_seconds``, ``generate_created``: time to draw the image and when (UTC).
- ``generate_key``: a hash of everything that determines the pixels; it names the file.

Each PNG carries the same row as JSON in its ``imagevars`` text chunk (read it with
:func:`read_png_row`), so a stimulus separated from its table still says how it was made.
Re-running the same design skips the images already on disk (checked by their key and pixels).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..io.files import atomic_write
from ..models.diffusion import DEFAULT_GENERATOR, GenerationError, Generator, Request
from .design import expand, read_design

PNG_KEY = "imagevars"
_FIELDS = [  # (column without the prefix, pyarrow type name)
    ("prompt", "string"), ("negative_prompt", "string"), ("seed", "int64"), ("steps", "int64"),
    ("guidance", "float64"), ("width", "int64"), ("height", "int64"), ("model", "string"),
    ("revision", "string"), ("commit", "string"), ("scheduler", "string"), ("device", "string"),
    ("dtype", "string"), ("prompt_tokens", "int64"), ("prompt_truncated", "bool_"), ("nsfw", "bool_"),
    ("sha256", "string"), ("seconds", "float64"), ("created", "string"), ("key", "string"),
]


def generate(prompts: str | Sequence[str] | None = None, output: str | os.PathLike = "stimuli", *,
             design: str | os.PathLike | None = None, n: int = 1, seed: int = 0, model: str = DEFAULT_GENERATOR,
             revision: str | None = None, scheduler: str | None = None, negative_prompt: str | None = None,
             steps: int | None = None, guidance: float | None = None, width: int | None = None,
             height: int | None = None, device: str = "cpu", dtype: str = "float32", threads: int | None = None,
             table: str | os.PathLike | None = None, generator: Generator | None = None,
             overwrite: bool = False, progress: bool = True):
    """Draw images from prompts (or a design file) into ``output``; one row per image.

    Args:
        prompts: one prompt or a list of them (or use ``design``).
        output: folder for the PNG files.
        design: a CSV/Parquet design file (see :mod:`imagevars.generation.design`).
        n: images per prompt, with seeds ``seed`` .. ``seed + n - 1``.
        model, revision, scheduler, device, dtype, threads: see :class:`Generator`.
        negative_prompt, steps, guidance, width, height: settings for rows that do not set them.
        table: where to write the table (.parquet, .csv, .dta); default ``output/generated.parquet``.
        generator: an already loaded :class:`Generator` (then model ... threads are ignored).
        overwrite: draw again even where the file exists.

    Returns:
        :class:`imagevars.Results`, one row per image, ``source`` the PNG file.

    Example:
        >>> import imagevars
        >>> t = imagevars.generate("Lithograph of a camel eating a pear", "stimuli", n=4, seed=7)  # doctest: +SKIP
        >>> t.to_pandas()[["source", "generate_seed", "generate_sha256"]]  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    from ..io import provenance
    from ..io.table import Results, check_columns, key_schema

    # 1. Check inputs: every request, before anything is drawn
    clock = provenance.begin()
    if (prompts is None) == (design is None):
        raise ValueError("give prompts or a design file (not both)")
    if design is not None:
        rows = read_design(design)
    else:
        rows = [({"prompt": p}, {}) for p in ([prompts] if isinstance(prompts, str) else list(prompts))]
        if not rows:
            raise ValueError("no prompts given")
    requests = expand(rows, n=n, seed=seed, negative_prompt=negative_prompt, steps=steps, guidance=guidance,
                      width=width, height=height)
    check_columns([f.name for f in key_schema(long=True)] + [f"generate_{k}" for k, _ in _FIELDS],
                  list(dict.fromkeys(k for _, e in requests for k in e)), how=f"design {design}:")
    gen = generator or Generator(model, revision=revision, scheduler=scheduler, device=device, dtype=dtype,
                                 threads=threads)
    checked = []
    for i, (request, extra) in enumerate(requests):
        try:
            checked.append((gen.check(request), extra))
        except ValueError as exc:
            where = f"{design} image {i + 1}" if design is not None else f"prompt {i // n + 1}"
            raise ValueError(f"{where}: {exc}") from None

    # 2. Draw what is not on disk yet; a failed image is an error row
    folder = Path(output)
    out_rows = []
    for request, extra in tqdm(checked, desc="generate", unit="image", disable=not progress):
        path, row = draw_to(gen, request, folder, overwrite=overwrite)
        out_rows.append({**_keys(path, row.pop("error", None)), **extra,
                         **{f"generate_{k}": row.get(k) for k, _ in _FIELDS}})

    # 3. One table, with provenance
    task = {"name": "generate", "model": gen.provenance(),
            "params": {"n": n, "seed": seed, "negative_prompt": negative_prompt, "steps": steps, "guidance": guidance,
                       "width": width, "height": height, "overwrite": overwrite}}
    record = provenance.record(clock, [task], input=str(design) if design is not None else "prompts",
                               output=str(folder))
    results = Results(_to_table(out_rows, requests), record)
    target = Path(table or folder / "generated.parquet")
    Results(_with_earlier_rows(target, results.table), record).write(target)
    return results


def _with_earlier_rows(path: Path, new):
    """The table already at ``path`` (an earlier call into the same folder), its rows for images
    drawn again replaced by the new ones, then the new rows: a folder's table lists every image in it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not path.exists():
        return new
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        old = pq.read_table(path)
    elif suffix == ".csv":
        import csv

        import pyarrow.csv as pcsv

        with open(path, newline="") as f:
            header = next(csv.reader(f), [])
        types = {f.name: f.type for f in new.schema if f.name in header}  # read back as written
        old = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=True))
    else:
        import pandas as pd

        old = pa.Table.from_pandas(pd.read_stata(path), preserve_index=False)
    columns = list(dict.fromkeys([*old.column_names, *new.column_names]))
    old = old.filter(pc.invert(pc.is_in(old.column("source"), value_set=new.column("source"))))
    try:
        return pa.concat_tables([old.select([c for c in columns if c in old.column_names]),
                                 new.select([c for c in columns if c in new.column_names])], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ValueError(f"{path} holds a table imagevars cannot add the new rows to ({exc}); write them with "
                         "--table to another file") from None


def draw_to(gen: Generator, request: Request, folder: str | os.PathLike, overwrite: bool = False):
    """Draw one checked request into ``folder`` (unless already there): (PNG path, its row).

    The row has ``error`` set, and no file is written, if the pipeline failed.

    Example:
        >>> path, row = draw_to(gen, gen.check(Request("a red apple", seed=3)), "stimuli")  # doctest: +SKIP
    """
    key = identity_key(request, gen)
    path = Path(folder) / file_name(request.prompt, request.seed, key)
    row = None if overwrite else _existing_row(path, key)
    return path, row if row is not None else _draw(gen, request, key, path)


def identity_key(request: Request, gen: Generator) -> str:
    """A short hash of everything that determines the pixels (settings, model commit, scheduler, device)."""
    ident = {**request.__dict__, "model": gen.repo, "revision": gen.revision, "commit": gen.commit,
             "scheduler": gen.scheduler, "device": gen.device, "dtype": gen.dtype}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:12]


def file_name(prompt: str, seed: int, key: str) -> str:
    """``<first words of the prompt>-seed<seed>-<key>.png``: readable, unique per setting."""
    slug = re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:40].strip("-") or "image"
    return f"{slug}-seed{seed}-{key}.png"


def pixel_sha256(image) -> str:
    """sha256 of an image's RGB pixel bytes (a PIL image or a file path).

    Example:
        >>> pixel_sha256("stimuli/a-camel-seed7-3f2a.png")  # doctest: +SKIP
    """
    import numpy as np
    from PIL import Image

    if not isinstance(image, Image.Image):
        with Image.open(image) as im:
            return pixel_sha256(im.convert("RGB"))
    return hashlib.sha256(np.ascontiguousarray(np.asarray(image.convert("RGB"))).tobytes()).hexdigest()


def read_png_row(path: str | os.PathLike) -> dict[str, Any]:
    """The row stored in a generated PNG's ``imagevars`` text chunk.

    Example:
        >>> read_png_row("stimuli/a-camel-seed7-3f2a.png")["seed"]  # doctest: +SKIP
        7
    """
    from PIL import Image

    with Image.open(path) as im:
        text = im.text.get(PNG_KEY) if hasattr(im, "text") else None
    if text is None:
        raise ValueError(f"{path} has no imagevars metadata: it was not written by imagevars generate")
    return json.loads(text)


def _draw(gen: Generator, request: Request, key: str, path: Path) -> dict[str, Any]:
    from PIL.PngImagePlugin import PngInfo

    from .._version import __version__
    from ..io.provenance import utc_now

    created = utc_now()
    row: dict[str, Any] = {**request.__dict__, "model": gen.name, "revision": gen.revision, "commit": gen.commit,
                           "scheduler": gen.scheduler, "device": gen.device, "dtype": gen.dtype, "key": key,
                           "created": created}
    try:
        image, info = gen.image(request)
    except (RuntimeError, ValueError, GenerationError) as exc:  # e.g. out of memory: one row, the run goes on
        return {**row, "error": f"generation failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
    row.update(info, sha256=pixel_sha256(image))
    if info["nsfw"]:
        row["error"] = "the pipeline's safety checker flagged this image and blacked it out"
    meta = PngInfo()
    meta.add_text(PNG_KEY, json.dumps({**row, "imagevars_version": __version__}))
    meta.add_text("Description", request.prompt)
    meta.add_text("Software", f"imagevars {__version__}")
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG", pnginfo=meta))
    return row


def _existing_row(path: Path, key: str) -> dict[str, Any] | None:
    """The stored row of an image already drawn with the same key and intact pixels, else None."""
    if not path.is_file():
        return None
    try:
        row = read_png_row(path)
        if row.get("key") == key and row.get("sha256") == pixel_sha256(path):
            row.pop("imagevars_version", None)
            return row
    except (OSError, ValueError):
        pass
    return None


def _keys(path: Path, error: str | None) -> dict[str, Any]:
    return {"source": str(path), "frame": 0, "time_s": 0.0, "error": error}


def _to_table(rows: list[dict[str, Any]], requests: list[tuple[Request, dict[str, Any]]]):
    import pyarrow as pa

    from ..io.table import key_schema

    extra = list(dict.fromkeys(k for _, e in requests for k in e))
    schema = pa.schema(key_schema() + [pa.field(k, pa.string()) for k in extra]
                       + [pa.field(f"generate_{k}", getattr(pa, t)()) for k, t in _FIELDS])
    rows = [{**r, **{k: None if r.get(k) is None else str(r[k]) for k in extra}} for r in rows]
    return pa.Table.from_pylist(rows, schema=schema)
