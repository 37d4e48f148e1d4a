"""Deprecated: moved to :mod:`imagevars.pipeline.runner` (this path goes in imagevars 0.3).

The old ``run`` took task names; :func:`imagevars.run` does, and is the one to call.
"""

import warnings

from .pipeline.runner import RunError, decode_sides, measure_image  # noqa: F401

warnings.warn("imagevars.runner moved to imagevars.pipeline.runner; call imagevars.run (it goes in imagevars 0.3)",
              DeprecationWarning, stacklevel=2)


def run(tasks, source, output=None, **options):
    """``imagevars.run``: tasks by name or object."""
    from .pipeline.runner import run as _run
    from .tasks import get_task

    return _run([get_task(t) for t in tasks], source, output, **options)
