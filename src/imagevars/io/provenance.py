"""The one provenance record: which version, models, weights and settings made a table, and when.

Every command that makes a table or a model (run, explain, train, generate) builds its record
here, so all have the same keys::

    version    imagevars version
    created    when the work began (UTC, ISO 8601, seconds)
    finished   when it ended
    seconds    how long it took
    tasks      one entry per task: name, params, model (with its weights sha256)
    ...        what the command adds (input, counts, background draw, ...)

Records written by earlier versions are read back with today's keys (:func:`normalise`).
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from typing import Any

from .._version import __version__

# older key -> today's key (0.1 runs wrote `started`; generate wrote it too)
_RENAMED = {"started": "created"}


def utc_now() -> str:
    """The time now in UTC, ISO 8601 to the second: ``2026-11-26T10:00:00+00:00``."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Clock:
    """When a piece of work began: start one with :func:`begin`, close it with :func:`record`."""

    created: str = field(default_factory=utc_now)
    t0: float = field(default_factory=time.perf_counter)


def begin() -> Clock:
    """Start the clock of a command's work.

    Example:
        >>> clock = begin()
        >>> sorted(record(clock, [{"name": "quality", "params": {}}], input="PHOTOS/"))
        ['created', 'finished', 'input', 'seconds', 'tasks', 'version']
    """
    return Clock()


def record(clock: Clock, tasks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The provenance of work that began at ``clock`` and ends now; ``extra`` keys follow the common ones."""
    return {
        "version": __version__,
        "created": clock.created,
        "finished": utc_now(),
        "seconds": round(time.perf_counter() - clock.t0, 3),
        "tasks": tasks,
        **extra,
    }


def normalise(provenance: dict[str, Any]) -> dict[str, Any]:
    """A record with today's keys: older names (``started``) read as their new ones (``created``).

    Example:
        >>> normalise({"version": "0.1.0", "started": "2026-01-01T00:00:00+00:00"})["created"]
        '2026-01-01T00:00:00+00:00'
    """
    out = dict(provenance)
    for old, new in _RENAMED.items():
        if old in out and new not in out:
            out[new] = out.pop(old)
    return out
