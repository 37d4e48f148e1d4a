"""The MNIST figures of the foundation issue, measured as a user would get them.

    python bench/mnist.py fast --seeds 5     # `imagevars train mnist --recipe fast`, whole command timed
    python bench/mnist.py lecture            # `imagevars train mnist` (the lecture's recipe)
    python bench/mnist.py lecture --seeds 5 --precision mixed_bfloat16   # the same in bfloat16 (AMX CPUs)
    python bench/mnist.py bundled            # `imagevars eval mnist-cnn`

Every run is a fresh process started from the shell, so wall time includes Python start-up,
imports, data loading, training, evaluation, saving, ONNX export and figures. Threads: 2
(IMAGEVARS_THREADS). Prints a line per run and a summary with medians and means.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quiet import watch  # noqa: E402  (bench/ is on the path when run as a script)

IMAGEVARS = [sys.executable, "-m", "imagevars.cli"]


def timed(cmd: list[str]) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run(
        cmd,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "IMAGEVARS_THREADS": os.environ.get("IMAGEVARS_THREADS", "2")},
    )
    return time.perf_counter() - t, out.stdout


def train(recipe: str, seeds: int, precision: str = "float32") -> None:
    accs, walls, fits = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            out = Path(tmp) / f"{recipe}-{seed}"
            wall, _ = timed(
                [
                    *IMAGEVARS,
                    "train",
                    "mnist",
                    "--recipe",
                    recipe,
                    "--seed",
                    str(seed),
                    "-o",
                    str(out),
                    "-q",
                    "--precision",
                    precision,
                ]
            )
            m = json.loads((out / "metrics.json").read_text())
            accs.append(m["test_accuracy"])
            walls.append(wall)
            fits.append(m["seconds"]["fit"])
            print(
                f"{recipe} seed {seed}: test accuracy {m['test_accuracy']:.2%} ({m['test_correct']} of 10,000), "
                f"whole command {wall:.1f} s (fit {m['seconds']['fit']:.1f} s, data {m['seconds']['data']:.1f} s)",
                flush=True,
            )
    print(
        f"{recipe}: mean test accuracy {statistics.mean(accs):.3%} over {seeds} seed(s) (min {min(accs):.2%}); "
        f"median whole-command time {statistics.median(walls):.1f} s, median fit {statistics.median(fits):.1f} s"
    )


def bundled() -> None:
    wall, out = timed([*IMAGEVARS, "eval", "mnist-cnn"])
    n = int(re.search(r"([\d,]+) of 10,000 correct", out).group(1).replace(",", ""))
    print(out.strip())
    print(f"bundled mnist-cnn: {n:,} of 10,000 correct ({n / 100:.2f}%), command {wall:.1f} s")


@watch
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["fast", "lecture", "bundled"])
    parser.add_argument("--seeds", type=int, default=None, help="seeds to run (default: 5 for fast, 1 for lecture)")
    parser.add_argument("--precision", choices=("float32", "mixed_bfloat16"), default="float32")
    args = parser.parse_args()
    if args.what == "bundled":
        bundled()
    else:
        train(args.what, args.seeds or (5 if args.what == "fast" else 1), args.precision)


if __name__ == "__main__":
    main()
