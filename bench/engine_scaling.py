"""Scaling of the Dask engine on one machine: 1 and 2 workers against the local engine, peak memory, and where
the single driver would become the bottleneck.

    python bench/make_photos.py bench/data/jpegs --n 600
    python bench/engine_scaling.py bench/data/jpegs --rounds 3 --per-round 100

Three sides alternate in each round over the same slice of real-size JPEGs (a new slice each
round), all running ``detect``: the local engine (2 decode processes, the model on 2 threads),
a Dask local cluster of 1 single-thread worker, and one of 2. Both clusters start before the
rounds (start-up not counted). For each side: images per second, the peak resident memory of
everything it uses (the driver with its in-process scheduler, plus its worker or decode
processes, sampled every 0.1 s), and the CPU seconds per row of the driver's main thread (its own
per-row work; Dask's event-loop threads are reported apart, as a share of a core). The per-row
cost is the slope between each round's run and a run of a fifth of its rows on the same cluster,
so that per-run costs (planning, opening and finishing the table: about 20 ms) are not spread
over the rows; the paper estimate of the driver's ceiling follows (the task is built once, before
the rounds, so its model's loading is not counted): 1 / (driver CPU seconds per row) images per
second, whatever the number of workers. Prints the medians over rounds and how busy the machine was.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("IMAGEVARS_THREADS", "2")
sys.path.insert(0, str(Path(__file__).parent))
from make_photos import photo_files  # noqa: E402
from quiet import Quiet, ratio  # noqa: E402


class PeakMemory:
    """Peak of the summed RSS of this process and ``pids``, sampled every 0.1 s; without ``pids``, of this process
    and its children other than ``exclude`` (the idle clusters' processes) and theirs."""

    def __init__(self, pids=(), exclude=()):
        import psutil

        self.procs = [psutil.Process()] + [psutil.Process(p) for p in pids]
        self.exclude = set(exclude)
        self.peak, self.stop = 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _members(self) -> list:
        if len(self.procs) > 1:
            return self.procs
        out = [self.procs[0]]
        for child in self.procs[0].children(recursive=True):
            if child.pid not in self.exclude and not any(a.pid in self.exclude for a in child.parents()):
                out.append(child)
        return out

    def _run(self):
        import psutil

        self.native_id = threading.get_native_id()
        while not self.stop.is_set():
            total = 0
            for p in self._members():
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def _thread_cpu() -> dict[int, float]:
    """CPU seconds of each thread of this process, by native thread id."""
    import psutil

    return {t.id: t.user_time + t.system_time for t in psutil.Process().threads()}


def _main_thread_cpu(call) -> float:
    """CPU seconds this process's main thread spends in ``call()``."""
    start = time.thread_time()
    call()
    return time.thread_time() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--per-round", type=int, default=100)
    p.add_argument("--task", default="detect")
    args = p.parse_args()
    import imagevars
    from imagevars.engines.dask import connect
    from imagevars.tasks import get_task

    task = get_task(args.task)  # built once: the model's loading is not counted as the driver's per-row cost
    files = photo_files(args.folder, args.rounds * args.per_round)
    sides = ("local", "dask x1", "dask x2")
    rate: dict[str, list[float]] = {s: [] for s in sides}
    memory: dict[str, list[float]] = {s: [] for s in sides}
    driver: dict[str, list[float]] = {s: [] for s in sides}
    background: dict[str, list[float]] = {s: [] for s in sides}
    fixed: tuple[list[float], list[float]] = ([], [])  # dask x2's main-thread CPU for the round's rows, and a fifth
    slope: list[float] = []
    with connect(workers=1) as one, connect(workers=2) as two, Quiet() as q, tempfile.TemporaryDirectory() as tmp:
        clusters = {"dask x1": one, "dask x2": two}
        for r in range(args.rounds):
            chunk = files[r * args.per_round : (r + 1) * args.per_round]
            for side in sides if r % 2 == 0 else tuple(reversed(sides)):
                client = clusters.get(side)
                pids = [] if client is None else [pid for pid in client.run(os.getpid).values()]
                options = None if client is None else {"address": client.scheduler.address}
                idle = [pid for c in clusters.values() for pid in c.run(os.getpid).values()]
                t, before = time.perf_counter(), _thread_cpu()
                with PeakMemory(pids, exclude=idle if client is None else ()) as peak:
                    imagevars.run(
                        [task],
                        chunk,
                        Path(tmp) / f"{side}{r}.parquet".replace(" ", ""),
                        progress=False,
                        engine="local" if client is None else "dask",
                        engine_options=options,
                    )
                wall, after = time.perf_counter() - t, _thread_cpu()
                main_id = threading.main_thread().native_id
                cpu = after.get(main_id, 0.0) - before.get(main_id, 0.0)  # the driver's own per-row work
                loop = sum(v - before.get(k, 0.0) for k, v in after.items() if k not in (main_id, peak.native_id))
                background[side].append(loop / wall)  # Dask's event loops: client, and this local cluster's scheduler
                rate[side].append(len(chunk) / wall)
                memory[side].append(peak.peak / 2**20)
                driver[side].append(cpu / len(chunk))
            small = chunk[: max(2, len(chunk) // 5)]  # the same driver on fewer rows: per-run costs apart
            fixed[0].append(driver["dask x2"][-1] * len(chunk))
            fixed[1].append(
                _main_thread_cpu(
                    lambda small=small, r=r: imagevars.run(
                        [task],
                        small,
                        Path(tmp) / f"small{r}.parquet",
                        progress=False,
                        engine="dask",
                        engine_options={"address": two.scheduler.address},
                    )
                )
            )
            slope.append((fixed[0][-1] - fixed[1][-1]) / (len(chunk) - len(small)))
            print(
                f"round {r + 1}: " + ", ".join(f"{s} {rate[s][-1]:.1f} img/s, {memory[s][-1]:.0f} MB" for s in sides),
                flush=True,
            )
    med = {s: statistics.median(rate[s]) for s in sides}
    mem = {s: statistics.median(memory[s]) for s in sides}
    for s in sides:
        print(
            f"{s:>8}: {med[s]:.1f} img/s, peak memory {mem[s]:.0f} MB, driver's main thread "
            f"{1000 * statistics.median(driver[s]):.2f} ms CPU per row, its other threads "
            f"{100 * statistics.median(background[s]):.1f}% of a core"
        )
    print(
        f"2 workers / 1 worker: {ratio(med['dask x2'], med['dask x1'])} images per second; "
        f"dask x2 / local: {ratio(med['dask x2'], med['local'])}; peak memory dask x2 / local "
        f"{mem['dask x2'] / mem['local']:.2f}x"
    )
    per_row = statistics.median(slope)
    n, n_small = args.per_round, max(2, args.per_round // 5)
    print(
        f"driver's main thread, dask x2: {1000 * statistics.median(fixed[0]):.0f} ms CPU for {n} rows, "
        f"{1000 * statistics.median(fixed[1]):.0f} ms for {n_small}: {1000 * per_row:.3f} ms per row more, the rest "
        f"({1000 * (statistics.median(fixed[1]) - n_small * per_row):.0f} ms) per run"
    )
    print(
        f"driver ceiling (paper estimate): 1 / {1000 * per_row:.3f} ms = {1 / per_row:,.0f} images per second: the "
        f"main thread's per-row work (receiving results, building record batches, writing parts), per-run costs "
        f"(planning, opening and finishing the table) apart; the event loops' share (heartbeats of this "
        f"in-process scheduler) tracks time, not rows"
    )
    print(q.line())


if __name__ == "__main__":
    main()
