"""reuse_freed_memory: while training, big freed blocks are reused instead of mapped afresh."""

import sys

import numpy as np
import pytest

from imagevars.train.heap import reuse_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc knobs (a no-op elsewhere)")
def test_big_blocks_are_reused_inside_and_mapped_afresh_outside():
    import resource

    def page_faults(rounds=8, mib=64):  # 64 MiB: above glibc's largest dynamic mmap threshold (32 MiB)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(rounds):
            a = np.ones(mib * 2**20 // 8)  # touches every page
            del a
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    outside = page_faults()
    with reuse_freed_memory():
        inside = page_faults()
    after = page_faults()
    assert inside * 3 < outside, (inside, outside)  # only the first block faults its pages in
    assert inside * 3 < after, (inside, after)  # settings restored: fresh mappings again
