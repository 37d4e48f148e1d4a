"""A task whose worker-side step kills its process on one kind of image, as a crashing decoder would."""

from __future__ import annotations

import os

from imagevars.tasks.base import Task

KILLER_WIDTH = 13  # images exactly 13 px wide take their worker down


def _width_or_die(decoded):
    if decoded.width == KILLER_WIDTH:
        os._exit(1)  # no exception, no cleanup: the process is simply gone
    return decoded.width


class CrashingTask(Task):
    name = "crash"
    max_side = 64

    def preprocessor(self):
        return _width_or_die

    def fields(self):
        import pyarrow as pa

        return [pa.field("crash_width", pa.int64())]

    def __call__(self, batch):
        return {"crash_width": list(batch)}


class RefusingTask(Task):
    """A task whose batch call raises when the batch holds an image of one width, as a model's processor might."""

    name = "refuse"
    max_side = 64
    REFUSED = 17

    def preprocessor(self):
        return _width

    def fields(self):
        import pyarrow as pa

        return [pa.field("refuse_width", pa.int64())]

    def __call__(self, batch):
        if self.REFUSED in batch:
            raise ValueError(f"the processor rejects an image {self.REFUSED} pixels wide")
        return {"refuse_width": list(batch)}


def _width(decoded):
    return decoded.width


class CallCrashingTask(CrashingTask):
    """A task whose model call (not its decoding) kills its process on one kind of image, as a crashing native
    model would; it asks for a copy in each local worker, so the local engine runs the call there."""

    name = "callcrash"
    per_worker = True

    def preprocessor(self):
        return _width

    def fields(self):
        import pyarrow as pa

        return [pa.field("callcrash_width", pa.int64())]

    def __call__(self, batch):
        if KILLER_WIDTH in batch:
            os._exit(1)
        return {"callcrash_width": list(batch)}


class RefusingInWorkers(RefusingTask):
    """:class:`RefusingTask`, run in the local engine's worker processes."""

    per_worker = True
