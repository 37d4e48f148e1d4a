"""How busy the machine was while a bench ran: CPU time used by other processes, as a share of all cores.

A figure measured while something else ran is not a figure. Wrap the timed part::

    with Quiet() as q:
        ...
    print(q.line())    # "others used 1.2% of the 2 cores while this ran"

or decorate a bench's ``main`` with :func:`watch`. Ratios go through :func:`ratio`, which prints
the ratio only while others have used at most 10% of the CPU (of the latest Quiet, so far), and
otherwise says to re-run on a quiet machine.

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


LIMIT = 0.10  # others may use at most this share of the CPU for a figure to be quoted
_LATEST: list = []


class Quiet:
    """Context manager: the share of the machine's CPU that other processes used meanwhile."""

    def __enter__(self):
        self.t0, self.busy0, self.own0 = time.monotonic(), _machine_busy_s(), _own_s()
        self.others_share = 0.0
        _LATEST[:] = [self]
        return self

    def share(self) -> float:
        """Others' share of the CPU since entering (so far, or until the exit)."""
        if hasattr(self, "seconds"):
            return self.others_share
        seconds = max(time.monotonic() - self.t0, 1e-6)
        others = (_machine_busy_s() - self.busy0) - (_own_s() - self.own0)
        return max(0.0, others) / (seconds * os.cpu_count())

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.t0
        others = (_machine_busy_s() - self.busy0) - (_own_s() - self.own0)
        self.others_share = max(0.0, others) / (self.seconds * os.cpu_count())
        return False

    def line(self, limit: float = 0.10) -> str:
        verdict = "quiet" if self.others_share <= limit else "BUSY: re-run on a quiet machine before quoting"
        return f"others used {self.others_share:.1%} of the {os.cpu_count()} cores while this ran ({verdict})"


def ratio(a: float, b: float, fmt: str = "{:.2f}x") -> str:
    """``a / b`` formatted, or a refusal when other processes used more than 10% of the CPU meanwhile.

    Example:
        >>> with Quiet():
        ...     ratio(3.0, 2.0)  # doctest: +SKIP
        '1.50x'
    """
    share = _LATEST[0].share() if _LATEST else 0.0
    if share > LIMIT:
        return f"(ratio withheld: others used {share:.0%} of the CPU; re-run on a quiet machine)"
    return fmt.format(a / b)


def watch(main):
    """Decorate a bench's ``main``: it runs inside one :class:`Quiet`, whose line is printed at the end."""
    import functools

    @functools.wraps(main)
    def run(*args, **kwargs):
        with Quiet() as q:
            out = main(*args, **kwargs)
        print(q.line())
        return out

    return run
