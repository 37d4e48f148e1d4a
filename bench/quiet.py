"""How busy the machine was while a bench ran: CPU time used by other processes, as a share of all cores.

A figure measured while something else ran is not a figure. Wrap the timed part::

    with Quiet() as q:
        ...
    print(q.line())    # "others used 1.2% of the 2 cores while this ran"

Busy time comes from /proc/stat (all processes), this bench's own from its process tree (psutil).
"""

from __future__ import annotations

import os
import time


def _machine_busy_s() -> float:
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_s() -> float:
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return total + sum(os.times()[2:4])  # children already waited for


class Quiet:
    """Context manager: the share of the machine's CPU that other processes used meanwhile."""

    def __enter__(self):
        self.t0, self.busy0, self.own0 = time.monotonic(), _machine_busy_s(), _own_s()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.t0
        others = (_machine_busy_s() - self.busy0) - (_own_s() - self.own0)
        self.others_share = max(0.0, others) / (self.seconds * os.cpu_count())
        return False

    def line(self, limit: float = 0.10) -> str:
        verdict = "quiet" if self.others_share <= limit else "BUSY: re-run on a quiet machine before quoting"
        return f"others used {self.others_share:.1%} of the {os.cpu_count()} cores while this ran ({verdict})"
