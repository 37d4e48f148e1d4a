"""Images per second for `composition`, `faces`, `text` and `hash` on real-size JPEGs, decode included,
and as a share of the decode-only rate at each task's working size.

    python bench/make_photos.py bench/data/jpegs --n 2000
    python bench/vars_throughput.py bench/data/jpegs --rounds 3 --per-round 60

Each round takes a new slice of the folder; for each task, alternating with its decode-only
side (the order rotating by round): `imagevars.run([task], slice, workers=2)`, then 2 fresh
processes that only decode the same files at the task's side (imagevars.io.decode.decode: DCT
scaling, EXIF orientation, RGB, resize), the ceiling for any pipeline that needs the pixels at
that size. Medians of the rounds; prints how busy the machine was.

With ``--in-process``, a third side runs each task with ``per_worker`` off: its model in this
process (on 2 threads) beside the 2 decode workers, as before the local engine put single-thread
model copies in its workers (``faces`` and ``text``; the others have no model).

    python bench/vars_throughput.py bench/data/jpegs --rounds 3 --per-round 60 --tasks faces,text --in-process
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

sys.path.insert(0, str(Path(__file__).parent))
from make_photos import photo_files  # noqa: E402
from quiet import Quiet, ratio  # noqa: E402

import imagevars  # noqa: E402
from imagevars.io.decode import decode  # noqa: E402
from imagevars.tasks import get_task  # noqa: E402

TASKS = ("composition", "faces", "text", "hash")


def _decode_chunk(paths: list[str], side: int) -> int:
    for p in paths:
        with open(p, "rb") as f:
            decode(f.read(), p, max_side=side)
    return len(paths)


def decode_only(paths: list[str], side: int) -> None:
    chunks = [paths[i : i + 8] for i in range(0, len(paths), 8)]
    with ProcessPoolExecutor(2) as pool:
        sum(pool.map(partial(_decode_chunk, side=side), chunks))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--per-round", type=int, default=60)
    p.add_argument("--tasks", default=",".join(TASKS))
    p.add_argument("--in-process", action="store_true", help="also time each task with its model in this process")
    args = p.parse_args()
    names = args.tasks.split(",")
    files = photo_files(args.folder, args.rounds * args.per_round)
    tasks = {n: get_task(n) for n in names}  # loaded once, as in a long run
    rates = {n: {"task": [], "decode": [], "here": []} for n in names}
    with Quiet() as q:
        for r in range(args.rounds):
            chunk = files[r * args.per_round : (r + 1) * args.per_round]
            for n in names:
                sides = ["task", "decode"] + (["here"] if args.in_process else [])
                for side in sides[r % len(sides) :] + sides[: r % len(sides)]:
                    t = time.perf_counter()
                    if side != "decode":
                        wanted, tasks[n].per_worker = (
                            tasks[n].per_worker,
                            (False if side == "here" else tasks[n].per_worker),
                        )
                        res = imagevars.run([tasks[n]], chunk, workers=2, progress=False)
                        tasks[n].per_worker = wanted
                        assert res.n_errors == 0
                    else:
                        decode_only(chunk, tasks[n].max_side)
                    rates[n][side].append(len(chunk) / (time.perf_counter() - t))
            print(
                f"round {r + 1}: "
                + ", ".join(
                    f"{n} {rates[n]['task'][-1]:.1f} img/s "
                    f"({rates[n]['task'][-1] / rates[n]['decode'][-1]:.0%} of decode)"
                    for n in names
                ),
                flush=True,
            )
    for n in names:
        task, dec = statistics.median(rates[n]["task"]), statistics.median(rates[n]["decode"])
        share = statistics.median(a / b for a, b in zip(rates[n]["task"], rates[n]["decode"]))
        print(
            f"{n}: {task:.1f} img/s, decode-only at {tasks[n].max_side} px {dec:.1f} img/s: "
            f"{ratio(share, 0.01, '{:.0f}%')} of the decode rate (median of the rounds' ratios)"
        )
        if args.in_process:
            gain = statistics.median(a / b for a, b in zip(rates[n]["task"], rates[n]["here"]))
            print(
                f"{n}, model in this process: {statistics.median(rates[n]['here']):.1f} img/s; as run / in this "
                f"process = {ratio(gain, 1.0)}"
            )
    print(q.line())


if __name__ == "__main__":
    main()
