"""reuse_freed_memory: while training, big freed blocks are reused instead of mapped afresh."""

import sys

import numpy as np
import pytest

from imagevars._memory import reuse_freed_memory
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc knobs (a no-op elsewhere)")
def test_big_blocks_are_reused_inside_and_mapped_afresh_outside(small_pages):
    def page_faults(rounds=8):
        return sum(_block_faults() for _ in range(rounds))

    outside = page_faults()
    with reuse_freed_memory():
        inside = page_faults()
    after = page_faults()
    assert inside * 3 < outside, (inside, outside)  # only the first block faults its pages in
    assert inside * 3 < after, (inside, after)  # settings restored: fresh mappings again


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
