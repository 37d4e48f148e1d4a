"""Each column's definition, from the codebook tables in the tasks' module docstrings (the one codebook)."""

from __future__ import annotations

import inspect
import re
import sys


def codebook_entries(task: str) -> list[tuple[str, str]]:
    """(column name pattern, definition) rows of the ``====`` table in ``task``'s module docstring."""
    from ..tasks import TASKS

    if task not in TASKS:
        return []
    doc = inspect.getdoc(sys.modules[TASKS[task].__module__]) or ""
    rows, inside = [], False
    for line in doc.splitlines():
        if re.match(r"^=+\s+=+\s*$", line):  # a table's top or bottom rule
            inside = not inside
            continue
        if not inside:
            continue
        m = re.match(r"^(\S+(?:, \S+)*)\s{2,}(.*)$", line)
        if m and not line.startswith(" "):
            for name in m.group(1).split(", "):
                rows.append([name, m.group(2).strip()])
        elif rows and line.startswith(" "):
            rows[-1][1] += " " + line.strip()
    return [(n, d) for n, d in rows]


def _pattern(name: str) -> re.Pattern:
    """``top{k}_label`` matches ``top3_label``; ``colorN_hex`` matches ``color2_hex``; ``count_{c}`` any class."""
    text = re.escape(name)
    text = re.sub(r"\\\{k\\\}|N(?=_)", r"\\d+", text)
    text = re.sub(r"\\\{c\\\}", r".+", text)
    return re.compile(f"^{text}$")


def definitions(columns: list[str], tasks: list[str]) -> dict[str, str]:
    """``{column: definition}`` for the table's columns named ``<task>_<variable>``."""
    out = {}
    for task in tasks:
        entries = [(_pattern(n), d) for n, d in codebook_entries(task)]
        for column in columns:
            if column.startswith(task + "_"):
                rest = column[len(task) + 1 :]
                found = next((d for p, d in entries if p.match(rest)), None)
                if found:
                    out[column] = found
    return out
