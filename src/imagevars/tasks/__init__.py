"""Tasks: what the pipeline measures. Each is a batch callable with a picklable preprocessor.

Example:
    >>> from imagevars.tasks import get_task
    >>> get_task("quality").name
    'quality'
"""

from __future__ import annotations

from typing import Any

from .ask import AskTask
from .base import Task
from .classify import ClassifyTask
from .clip import ClipEmbedTask, ClipTask
from .composition import CompositionTask
from .detect import DetectTask
from .embed import EmbedTask
from .faces import FacesTask
from .hash import HashTask
from .quality import QualityTask
from .text import TextTask

TASKS: dict[str, type[Task]] = {
    "quality": QualityTask,
    "detect": DetectTask,
    "classify": ClassifyTask,
    "embed": EmbedTask,
    "clip": ClipTask,
    "clip-embed": ClipEmbedTask,
    "hash": HashTask,
    "composition": CompositionTask,
    "text": TextTask,
    "faces": FacesTask,
    "ask": AskTask,
}


def _registered(name: str) -> type[Task]:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; available: {', '.join(sorted(TASKS))}")
    return TASKS[name]


def get_task(name: Any, **params: Any) -> Task:
    """A task instance from its name (or the instance itself, or built from its :func:`task_spec`)."""
    from ..engines.specs import TaskSpec

    if isinstance(name, Task):
        return name
    if isinstance(name, TaskSpec):
        return name.build()
    return _registered(name)(**params)


def task_spec(name: Any, **params: Any):
    """A task named but not built (:class:`imagevars.engines.specs.TaskSpec`): a cluster run builds it on its
    workers only, so the driver never loads its model; a local run builds it. A task object is returned as is.

    Example:
        >>> task_spec("detect", threshold=0.5).kwargs
        {'threshold': 0.5}
    """
    from ..engines.specs import TaskSpec

    if isinstance(name, (Task, TaskSpec)):
        return name
    cls = _registered(name)
    return TaskSpec(name, f"{cls.__module__}.{cls.__qualname__}", dict(params))


__all__ = [
    "TASKS",
    "AskTask",
    "Task",
    "ClassifyTask",
    "ClipEmbedTask",
    "ClipTask",
    "CompositionTask",
    "DetectTask",
    "EmbedTask",
    "FacesTask",
    "HashTask",
    "QualityTask",
    "TextTask",
    "get_task",
    "task_spec",
]
