"""The task protocol: preprocess in the decode workers, a batch call in the main process.

A task splits its work as transformers' pipelines do:

- ``preprocessor()`` returns a picklable function ``(Decoded) -> features`` that runs in the
  decode worker processes, next to decoding (pure NumPy work belongs here);
- ``__call__(batch)`` takes a list of those features and returns ``{column: values}``; a model
  is loaded once in ``__init__`` and runs here on whole batches, so another engine (Ray Data's
  ``map_batches``) can host the same object unchanged;
- ``fields()`` names and types the output columns, so error rows and empty runs still have
  the right schema; ``provenance()`` says which model, weights and parameters made them;
- ``options`` lists the constructor arguments the command line offers as flags of
  ``imagevars run``, so a new task adds its settings without touching :mod:`imagevars.cli`;
- ``per_worker`` says where the local engine runs the calls: True for a small model whose
  single-thread copies, one per worker process next to its decoding, outrun one copy's threads
  beside the decoders (the bundled ONNX models); None for a task without a model (either way);
  False (the default) for this process.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def comma_list(text: str) -> tuple[str, ...]:
    """A flag's comma-separated names, stripped, blanks left out.

    Example:
        >>> comma_list(" logo, price tag,, ")
        ('logo', 'price tag')
    """
    return tuple(c.strip() for c in text.split(",") if c.strip())


@dataclass(frozen=True)
class Option:
    """One setting of a task, offered as a flag of ``imagevars run``: ``--flag VALUE`` -> ``Task(param=VALUE)``.

    Tasks that declare the same flag share it (``--clip-model`` sets the model of ``clip`` and of
    ``clip-embed``); a flag left out leaves the task's own default.

    Example:
        >>> Option("--threshold", "threshold", float, "score at or above which objects count").dest
        'threshold'
    """

    flag: str  # the command-line flag, "--threshold"
    param: str  # the constructor argument it sets
    type: Callable[[str], Any] | None = str  # None: a switch (given: True)
    help: str = ""
    choices: tuple[str, ...] | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


class Task:
    """The task protocol (the module docstring). Every task remembers how it was made (:meth:`spec`), so a
    cluster engine can build the same task on each worker instead of shipping a loaded model."""

    name: str = ""
    max_side: int | None = None  # the longest side the task needs; larger images decode smaller
    per_worker: bool | None = False  # True: a copy in each local worker process (module docstring)
    options: tuple[Option, ...] = ()  # settings `imagevars run` offers as flags

    def preprocessor(self) -> Callable[[Any], Any]:
        raise NotImplementedError

    def fields(self) -> list:
        """pyarrow fields of the output columns, named ``<task>_<variable>``."""
        raise NotImplementedError

    def __call__(self, batch: list[Any]) -> dict[str, list]:
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:
            return
        init = cls.__dict__["__init__"]

        def recording_init(self, *args: Any, **kw: Any) -> None:
            if "_spec" not in self.__dict__:  # the outermost constructor's arguments (a subclass calls super())
                self._spec = {
                    "class": f"{type(self).__module__}.{type(self).__qualname__}",
                    "args": list(args),
                    "kwargs": dict(kw),
                }
            init(self, *args, **kw)

        functools.update_wrapper(recording_init, init)  # the constructor's name, docstring and signature
        cls.__init__ = recording_init  # type: ignore[method-assign]

    def spec(self) -> dict[str, Any]:
        """The class and constructor arguments that build this task again
        (:func:`imagevars.engines.specs.rebuild`, on a cluster's workers).

        Example:
            >>> from imagevars.tasks.quality import QualityTask
            >>> QualityTask(size=256).spec()["kwargs"]
            {'size': 256}
        """
        return self.__dict__.get("_spec") or {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "args": [],
            "kwargs": {},
        }

    def params(self) -> dict[str, Any]:
        return {}

    def provenance(self) -> dict[str, Any]:
        return {"name": self.name, "params": self.params(), "model": None, "weights_sha256": None}


def copies_per_worker(model: Any, threads: int | None) -> bool:
    """Whether a task's model runs best as one single-thread copy per local worker process: an ONNX Runtime
    model (the bundled ones: a few MB, loaded in well under a second) whose threads the caller left unpinned.

    Example:
        >>> from types import SimpleNamespace
        >>> copies_per_worker(SimpleNamespace(session=object()), None), copies_per_worker(SimpleNamespace(session=object()), 2)
        (True, False)
    """
    return threads is None and getattr(model, "session", None) is not None


def working_rgb(decoded, size: int):
    """The decoded image shrunk so its longer side is at most ``size``, as one contiguous RGB array: the
    preprocessor of tasks whose model takes whole images (``faces``, ``text``, ``ask``).

    Example:
        >>> import numpy as np
        >>> from types import SimpleNamespace
        >>> working_rgb(SimpleNamespace(rgb=np.zeros((300, 400, 3), np.uint8)), 100).shape
        (75, 100, 3)
    """
    import numpy as np

    from ..io.decode import shrink

    return np.ascontiguousarray(shrink(decoded.rgb, size))
