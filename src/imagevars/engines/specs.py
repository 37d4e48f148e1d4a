"""Objects built again from their specs on another process or machine: a task's class and arguments.

A cluster engine never ships a loaded model: it sends each task's :meth:`~imagevars.tasks.base.Task.spec`
(the class's import path and its constructor arguments), and each worker builds the task once.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


def rebuild(spec: dict[str, Any]) -> Any:
    """The object a spec describes (``{"class": "pkg.module.Class", "args": [...], "kwargs": {...}}``), built again.

    Example:
        >>> from imagevars.tasks.quality import QualityTask
        >>> rebuild(QualityTask(size=256).spec()).size
        256
    """
    module, _, name = spec["class"].rpartition(".")
    try:
        cls = importlib.import_module(module)
        for part in name.split("."):
            cls = getattr(cls, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(
            f"cannot build {spec['class']} on this worker ({exc}): a cluster builds tasks from "
            "importable classes; define a custom task in a module the workers can import"
        ) from None
    return cls(*spec.get("args", ()), **spec.get("kwargs", {}))


@dataclass(frozen=True)
class TaskSpec:
    """A task named but not built: its class and constructor arguments (``imagevars.tasks.task_spec`` makes one).

    A cluster run builds it on the workers only, so the driver never loads its model: one worker describes
    it (columns, provenance, preprocessor: :func:`imagevars.engines.cluster.describe`). A local run builds
    it in this process (:meth:`build`).

    Example:
        >>> spec = TaskSpec("quality", "imagevars.tasks.quality.QualityTask", {"size": 256})
        >>> spec.build().size
        256
    """

    name: str
    cls: str  # the class's import path
    kwargs: dict

    def spec(self) -> dict[str, Any]:
        return {"class": self.cls, "args": [], "kwargs": dict(self.kwargs)}

    def build(self) -> Any:
        return rebuild(self.spec())
