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

TASKS: dict[str, type[Task]] = {"quality": QualityTask, "detect": DetectTask, "classify": ClassifyTask,
                                 "embed": EmbedTask, "clip": ClipTask, "clip-embed": ClipEmbedTask,
                                 "hash": HashTask, "composition": CompositionTask,
                                 "text": TextTask, "faces": FacesTask, "ask": AskTask}


def get_task(name: str | Task, **params: Any) -> Task:
    """A task instance from its name (or the instance itself)."""
    if isinstance(name, Task):
        return name
    try:
        return TASKS[name](**params)
    except KeyError:
        raise ValueError(f"unknown task {name!r}; available: {', '.join(sorted(TASKS))}") from None


__all__ = ["TASKS", "AskTask", "Task", "ClassifyTask", "ClipEmbedTask", "ClipTask", "CompositionTask", "DetectTask", "EmbedTask", "FacesTask", "HashTask", "QualityTask", "TextTask", "get_task"]
