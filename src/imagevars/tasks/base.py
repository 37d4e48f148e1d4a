"""The task protocol: preprocess in the decode workers, a batch call in the main process.

A task splits its work as transformers' pipelines do:

- ``preprocessor()`` returns a picklable function ``(Decoded) -> features`` that runs in the
  decode worker processes, next to decoding (pure NumPy work belongs here);
- ``__call__(batch)`` takes a list of those features and returns ``{column: values}``; a model
  is loaded once in ``__init__`` and runs here on whole batches, so another engine (Ray Data's
  ``map_batches``) can host the same object unchanged;
- ``fields()`` names and types the output columns, so error rows and empty runs still have
  the right schema; ``provenance()`` says which model, weights and parameters made them.
"""

from __future__ import annotations

from typing import Any, Callable


class Task:
    name: str = ""
    max_side: int | None = None  # the longest side the task needs; larger images decode smaller

    def preprocessor(self) -> Callable[[Any], Any]:
        raise NotImplementedError

    def fields(self) -> list:
        """pyarrow fields of the output columns, named ``<task>_<variable>``."""
        raise NotImplementedError

    def __call__(self, batch: list[Any]) -> dict[str, list]:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        return {}

    def provenance(self) -> dict[str, Any]:
        return {"name": self.name, "params": self.params(), "model": None, "weights_sha256": None}
