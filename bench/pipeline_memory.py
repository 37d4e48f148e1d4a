"""Peak memory of `imagevars run quality` on 1,000 and on 100,000 images: it should be flat.

Writes small real-photo JPEGs (96 px crops of scikit-image's photos) into a temporary folder,
then runs the pipeline in a fresh process on the folder of the first 1,000 and on the whole
folder of N (subfolders of 1,000, walked as a stream), writing Parquet,
and reports the peak resident memory of the main process and of the largest worker.

    python bench/pipeline_memory.py --n 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quiet import ratio, watch  # bench/ is on the path when run as a script

CHILD = """
import json, resource, sys, imagevars
res = imagevars.run(["quality"], sys.argv[1], sys.argv[2], workers=2, progress=False)  # a folder, walked as a stream
print(json.dumps({"rows": len(res), "errors": res.n_errors,
                  "main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def make(folder: Path, n: int) -> list[str]:
    import numpy as np
    import skimage.data as data
    from PIL import Image

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        sub = folder / f"{i // 1000:04d}"
        sub.mkdir(exist_ok=True)
        p = sub / f"{i:06d}.jpg"
        src = photos[i % 4]
        y, x = rng.integers(0, src.shape[0] - 96), rng.integers(0, src.shape[1] - 96)
        Image.fromarray(src[y : y + 96, x : x + 96]).save(p, quality=85)
        paths.append(str(p))
    return paths


@watch
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        paths = make(Path(tmp), args.n)
        print(f"wrote {len(paths):,} JPEGs in {time.perf_counter() - t:.0f} s", flush=True)
        out = {}
        for n in (1000, args.n):
            folder = Path(tmp) / "0000" if n == 1000 else Path(tmp)  # the first subfolder holds 1,000
            t = time.perf_counter()
            r = subprocess.run(
                [sys.executable, "-c", CHILD, str(folder), str(Path(tmp).parent / f"imagevars-mem-{n}.parquet")],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "IMAGEVARS_THREADS": "2"},
            )
            out[n] = json.loads(r.stdout.strip().splitlines()[-1])
            Path(tmp).parent.joinpath(f"imagevars-mem-{n}.parquet").unlink()
            print(
                f"{n:>7,} images: {out[n]['rows']:,} rows in {time.perf_counter() - t:.0f} s; peak memory "
                f"main {out[n]['main_mb']:.0f} MB, largest worker {out[n]['worker_mb']:.0f} MB",
                flush=True,
            )
        small, big = out[1000], out[args.n]
        print(
            f"peak main-process memory {ratio(big['main_mb'], small['main_mb'])} from 1,000 to {args.n:,} images; "
            f"workers {big['worker_mb'] / small['worker_mb']:.2f}x"
        )


if __name__ == "__main__":
    main()
