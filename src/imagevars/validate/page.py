"""The coding page: one static HTML file that works from ``file://``, with no server and no internet.

It holds the sample's images (JPEG thumbnails, 1,024 px at most, inside the file), the codebook
and each image's model answer, hidden unless the coder presses ``m`` (blind coding). One key per
answer, ``b`` back, ``s`` skip, ``f`` flag; progress at the top; every answer is kept in the
browser's local storage as it is given, so a reload or a crash loses nothing; "Export CSV" saves
``coder_<name>.csv`` (source, coder, stratum, inclusion probability, one column per question,
flagged, skipped), the input of ``imagevars validate agree``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..io.files import atomic_write
from ..io.html import fill, script_json
from ..io.redact import redact
from .codebook import Codebook

THUMBNAIL = 1024


def write_page(drawn, codebook: Codebook, out: str | os.PathLike, model_answers: dict | None = None) -> Path:
    """Write ``coder.html`` for the sample ``drawn`` (``source``, ``stratum``, ``inclusion_probability``).

    Images that cannot be read are left out of the page and listed in the error raised only if
    none can be read; the rest are coded as usual.
    """
    from ..io.decode import DecodeError
    from ..io.sources import printable
    from ..io.thumbnails import thumbnail_uri

    items, unreadable = [], []
    for row in drawn.itertuples(index=False):
        try:
            image = thumbnail_uri(row.source, THUMBNAIL)
        except (DecodeError, OSError) as exc:
            unreadable.append((row.source, str(exc)))
            continue
        answer = (model_answers or {}).get(row.source)
        items.append(
            {
                "source": row.source,
                "name": redact(printable(Path(row.source).name)),
                "image": image,
                "stratum": str(row.stratum),
                "probability": float(row.inclusion_probability),
                "model": None if answer is None else str(answer),
            }
        )
    if not items:
        raise ValueError(f"none of the {len(drawn)} sampled images could be read; the first: {unreadable[0][1]}")
    ident = hashlib.sha256(json.dumps([[i["source"] for i in items], codebook.to_dict()]).encode()).hexdigest()[:16]
    data = script_json({"id": ident, "codebook": codebook.to_dict(), "items": items})
    html = fill((Path(__file__).parent / "coder.html").read_text(), data=data)
    path = Path(out) / "coder.html"
    atomic_write(path, lambda tmp: Path(tmp).write_text(html, encoding="utf-8"))
    return path
