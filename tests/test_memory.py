"""reuse_freed_memory: while training, big freed blocks are reused instead of mapped afresh."""

import sys

import numpy as np
import pytest

from imagevars.tasks import Task


@pytest.fixture
def small_pages():
    """Transparent huge pages off for this process while the test runs, so page faults count pages.

    With them on, a fresh 64 MiB mapping faults 32 to 16,384 times depending on its alignment.
    """
    import ctypes

    libc = ctypes.CDLL(None)
    pr_set_thp_disable = 41
    libc.prctl(pr_set_thp_disable, 1, 0, 0, 0)
    yield
    libc.prctl(pr_set_thp_disable, 0, 0, 0, 0)


_IN_A_FRESH_PROCESS = """
import ctypes, json, resource
import numpy as np
from imagevars._memory import reuse_freed_memory
ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE: page faults count 4 KiB pages

def block_faults():  # allocate, touch and free one 64 MiB block (above glibc's largest own threshold)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    a = np.ones(8 * 2**20)
    del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

def faults(rounds=8):
    return sum(block_faults() for _ in range(rounds))

outside = faults()
with reuse_freed_memory():
    inside = faults()
print(json.dumps([outside, inside, faults()]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc knobs (a no-op elsewhere)")
def test_big_blocks_are_reused_inside_and_mapped_afresh_outside():
    """In a fresh process: a heap that earlier tests fragmented can hold a free 64 MiB hole, which
    glibc rightly reuses whatever its thresholds say (the test process had one after some tests)."""
    import json
    import subprocess

    out = subprocess.run([sys.executable, "-c", _IN_A_FRESH_PROCESS], capture_output=True, text=True, check=True)
    outside, inside, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert inside * 3 < outside, (inside, outside)  # only the first block faults its pages in
    assert inside * 3 < after, (inside, after)  # settings restored: freed blocks go back to the system again


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc knobs (a no-op elsewhere)")
def test_pipeline_workers_keep_freed_memory(tmp_path, small_pages):
    """A worker's second image faults in almost no new pages: the first one's planes are reused."""
    from PIL import Image

    import imagevars

    paths = []
    for i in range(6):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.new("RGB", (64, 64)).save(paths[-1])
    faults = imagevars.run([_Faults()], paths, workers=1, progress=False).to_pandas()["f_faults"].tolist()
    assert max(faults[2:]) < 100, faults  # 64 MiB freshly mapped: 16,384 faults


def _block_faults() -> int:
    """Page faults of allocating, touching and freeing one 64 MiB block.

    64 MiB is above the largest mmap threshold glibc picks itself (32 MiB). Only this thread's faults count:
    threads earlier tests left in the process (event loops, thread pools) fault pages of their own.
    """
    import resource

    who = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)
    before = resource.getrusage(who).ru_minflt
    a = np.ones(8 * 2**20)  # touches every page
    del a
    return resource.getrusage(who).ru_minflt - before


def _faults(decoded):
    return _block_faults()


class _Faults(Task):
    name = "f"

    def preprocessor(self):
        return _faults

    def fields(self):
        import pyarrow as pa

        return [pa.field("f_faults", pa.int64())]

    def __call__(self, batch):
        return {"f_faults": batch}
