"""A task that reports, per image, what the worker process that prepared it sees: its pid, its start method,
an imagevars setting, and the thread counts of the libraries it loaded."""

from __future__ import annotations

import multiprocessing
import os
import sys

from imagevars.tasks.base import Task

SETTING = "IMAGEVARS_PROBE_SETTING"


def _seen(decoded):
    import cv2

    torch_threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
    return {
        "pid": os.getpid(),
        "method": multiprocessing.get_start_method(allow_none=True) or "",
        "setting": os.environ.get(SETTING, ""),
        "omp": os.environ.get("OMP_NUM_THREADS", ""),
        "cv2": cv2.getNumThreads(),
        "torch": torch_threads,
        "width": decoded.width,
    }


class ProbeTask(Task):
    name = "probe"
    max_side = 64

    def preprocessor(self):
        return _seen

    def fields(self):
        import pyarrow as pa

        return [
            pa.field(f"probe_{k}", pa.string() if k in ("method", "setting", "omp") else pa.int64())
            for k in ("pid", "method", "setting", "omp", "cv2", "torch", "width")
        ]

    def __call__(self, batch):
        return {
            f"probe_{k}": [b[k] for b in batch] for k in ("pid", "method", "setting", "omp", "cv2", "torch", "width")
        }
