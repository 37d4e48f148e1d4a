"""How busy the machine was while a bench ran: CPU time used by other processes, as a share of all cores.

A figure measured while something else ran is not a figure. Wrap the timed part::

    with Quiet() as q:
        ...
    print(q.line())    # "others used 1.2% of the 2 cores while this ran"

or decorate a bench's ``main`` with :func:`watch`. Ratios go through :func:`ratio`, which prints
the ratio only while others have used at most 10% of the CPU (of the latest Quiet, so far), and
otherwise says to re-run on a quiet machine.

Busy time comes from /proc/stat (all processes), this bench's own from its process tree (psutil),
sampled while it runs so that processes that come and go are counted.
"""

from __future__ import annotations

import os
import time


def _machine_busy_s() -> float:
    """CPU seconds spent by processes (user, nice, system) and stolen by the hypervisor, all cores together."""
    user, nice, system, irq, softirq, steal = _stat()
    return user + nice + system + steal


def _interrupts_s() -> float:
    """CPU seconds in interrupt handlers: no process's time, mostly the traffic of the bench's own servers
    (Ray's gRPC over loopback spent a third of the machine there)."""
    user, nice, system, irq, softirq, steal = _stat()
    return irq + softirq


def _stat() -> tuple[float, ...]:
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    tick = os.sysconf("SC_CLK_TCK")
    return tuple(v / tick for v in (user, nice, system, irq, softirq, steal))


class _Tree:
    """CPU seconds of this process and all its descendants since it started watching, sampled every 0.2 s by a
    thread, so that the time of processes that start and end meanwhile (a Ray actor of one run) is counted;
    a process that ends loses at most its last 0.2 s."""

    def __init__(self, interval: float = 0.2):
        import threading

        self.base: dict = {}
        self.last: dict = {}
        self.sample(first=True)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self.thread.start()

    def sample(self, first: bool = False) -> None:
        import psutil

        me = psutil.Process()
        for proc in [me, *me.children(recursive=True)]:
            try:
                key, used = (proc.pid, proc.create_time()), sum(proc.cpu_times()[:2])
            except psutil.Error:
                continue
            self.base.setdefault(key, used if first else 0.0)
            self.last[key] = used

    def _run(self, interval: float) -> None:
        while not self.stop.wait(interval):
            self.sample()

    def seconds(self) -> float:
        self.sample()
        return sum(self.last[k] - self.base[k] for k in self.last)

    def close(self) -> float:
        self.stop.set()
        self.thread.join()
        return self.seconds()


LIMIT = 0.10  # others may use at most this share of the CPU for a figure to be quoted
_LATEST: list = []


class Quiet:
    """Context manager: the share of the machine's CPU that other processes used meanwhile."""

    def __enter__(self):
        self.t0, self.busy0, self.tree, self.irq0 = time.monotonic(), _machine_busy_s(), _Tree(), _interrupts_s()
        self.others_share = self.interrupt_share = 0.0
        _LATEST[:] = [self]
        return self

    def share(self) -> float:
        """Others' share of the CPU since entering (so far, or until the exit)."""
        if hasattr(self, "seconds"):
            return self.others_share
        seconds = max(time.monotonic() - self.t0, 1e-6)
        others = (_machine_busy_s() - self.busy0) - self.tree.seconds()
        return max(0.0, others) / (seconds * os.cpu_count())

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.t0
        others = (_machine_busy_s() - self.busy0) - self.tree.close()
        self.others_share = max(0.0, others) / (self.seconds * os.cpu_count())
        self.interrupt_share = (_interrupts_s() - self.irq0) / (self.seconds * os.cpu_count())
        return False

    def line(self, limit: float = 0.10) -> str:
        verdict = "quiet" if self.others_share <= limit else "BUSY: re-run on a quiet machine before quoting"
        irq = f"; interrupt handlers {self.interrupt_share:.1%}, not counted" if self.interrupt_share >= 0.01 else ""
        return f"others used {self.others_share:.1%} of the {os.cpu_count()} cores while this ran ({verdict}{irq})"


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
