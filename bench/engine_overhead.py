"""A cluster engine (Dask or Ray) against the local engine on the same machine and the same work (``detect``).

    python bench/make_photos.py bench/data/jpegs --n 600
    python bench/engine_overhead.py bench/data/jpegs --rounds 3 --per-round 120 [--engine ray]

Sides alternate in each round over the same slice of JPEGs (a new slice each round): the local
engine (2 worker processes, each decoding and running its own single-thread copy of the model:
``pipeline.engines.models_in_workers``) and the cluster engine
(Dask: a local cluster of 2 single-thread workers; Ray: 2 actors of 1 CPU; each decoding and
running the model), started once before the rounds; its start-up is reported separately. Prints each round, the median ratio of
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
from quiet import Quiet, ratio  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--per-round", type=int, default=120)
    p.add_argument("--task", default="detect")
    p.add_argument("--engine", default="dask", choices=("dask", "ray"))
    args = p.parse_args()
    import imagevars

    files = photo_files(args.folder, args.rounds * args.per_round)
    t = time.perf_counter()
    if args.engine == "dask":
        from imagevars.engines.dask import connect

        cluster, options = connect(workers=2), lambda c: {"address": c.scheduler.address}
    else:
        from imagevars.engines.ray import connect

        cluster, options = connect(cpus=2), lambda c: {"actors": 2, "cpus": 1}
    with cluster as client, Quiet() as q, tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter() - t
        engine_options = options(client)
        times: dict[str, list[float]] = {"local": [], args.engine: []}
        for r in range(args.rounds):
            chunk = files[r * args.per_round : (r + 1) * args.per_round]
            for side in ("local", args.engine) if r % 2 == 0 else (args.engine, "local"):
                t = time.perf_counter()
                imagevars.run(
                    [args.task],
                    chunk,
                    Path(tmp) / f"{side}{r}.parquet",
                    progress=False,
                    engine=side,
                    engine_options=engine_options if side != "local" else None,
                )
                times[side].append(time.perf_counter() - t)
            print(
                f"round {r + 1}: local {times['local'][-1]:.1f} s, {args.engine} {times[args.engine][-1]:.1f} s",
                flush=True,
            )
    ratios = [d / l for d, l in zip(times[args.engine], times["local"])]
    print(
        f"{args.task}, {args.per_round} images a round: {args.engine} / local wall time = "
        f"{ratio(statistics.median(ratios), 1.0)} "
        f"(median of the rounds' ratios; rounds {min(ratios):.2f}-{max(ratios):.2f}); local cluster start-up "
        f"{start:.1f} s, not counted"
    )
    print(q.line())


if __name__ == "__main__":
    main()
