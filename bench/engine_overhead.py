"""The Dask engine against the local engine on the same machine and the same work (``detect``).

    python bench/make_photos.py bench/data/jpegs --n 600
    python bench/engine_overhead.py bench/data/jpegs --rounds 3 --per-round 120

Sides alternate in each round over the same slice of JPEGs (a new slice each round): the local
engine (2 decode processes, the model in the main process on 2 threads) and the Dask engine (a
local cluster of 2 single-thread workers, each decoding and running the model), started once
before the rounds; its start-up is reported separately. Prints each round, the median ratio of
wall times, and how busy the machine was.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("IMAGEVARS_THREADS", "2")
sys.path.insert(0, str(Path(__file__).parent))
from make_photos import photo_files  # noqa: E402
from quiet import Quiet  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--per-round", type=int, default=120)
    p.add_argument("--task", default="detect")
    args = p.parse_args()
    import imagevars
    from imagevars.engines.dask import connect

    files = photo_files(args.folder, args.rounds * args.per_round)
    t = time.perf_counter()
    with connect(workers=2) as client, Quiet() as q, tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter() - t
        address = client.scheduler.address
        times: dict[str, list[float]] = {"local": [], "dask": []}
        for r in range(args.rounds):
            chunk = files[r * args.per_round: (r + 1) * args.per_round]
            for side in (("local", "dask") if r % 2 == 0 else ("dask", "local")):
                t = time.perf_counter()
                imagevars.run([args.task], chunk, Path(tmp) / f"{side}{r}.parquet", progress=False,
                              engine=side, engine_options={"address": address} if side == "dask" else None)
                times[side].append(time.perf_counter() - t)
            print(f"round {r + 1}: local {times['local'][-1]:.1f} s, dask {times['dask'][-1]:.1f} s", flush=True)
    ratios = [d / l for d, l in zip(times["dask"], times["local"])]
    print(f"{args.task}, {args.per_round} images a round: dask / local wall time = {statistics.median(ratios):.2f}x "
          f"(median of the rounds' ratios; rounds {min(ratios):.2f}-{max(ratios):.2f}); local cluster start-up "
          f"{start:.1f} s, not counted")
    print(q.line())


if __name__ == "__main__":
    main()
