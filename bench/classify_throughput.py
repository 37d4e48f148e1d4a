"""Throughput of `classify` and `embed` on real-size JPEGs, decode included, against a plain PyTorch loop.

Sides, alternated in each round over the same slice of the folder (a new slice each round, the
order of the sides rotating), each timed from file paths to the numbers a study keeps:

- plain PyTorch: one process, as a notebook is written: Pillow open, EXIF transpose, RGB, full
  decode, the central 87.5% square resized to 224 px, batches of 32 through the same
  EfficientNet-Lite0 in PyTorch (imagevars.models.efficientnet_torch, the bundled weights),
  softmax and top-5 (classify) or the pooled features (embed); torch on 2 threads.
- imagevars: ``imagevars.run(["classify"])`` and ``imagevars.run(["embed"])``: 2 worker processes
  (DCT-reduced JPEG decode), each with its own single-thread copy of the network in ONNX Runtime
  (the local engine's choice for the bundled models), a Parquet table.
- with ``--in-process``, also imagevars with the network's threads pinned (``threads=2``): the
  network then runs in this process on 2 threads beside the 2 decode workers, as before the
  local engine put model copies in its workers.

    python bench/make_photos.py bench/data/jpegs --n 1200
    python bench/classify_throughput.py bench/data/jpegs --rounds 3 --per-round 200
    python bench/classify_throughput.py bench/data/jpegs --rounds 3 --per-round 200 --in-process

Prints each round, the medians, the ratios imagevars / plain, and how busy the machine was.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "2")
os.environ.setdefault("IMAGEVARS_THREADS", "2")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from make_photos import photo_files  # noqa: E402
from quiet import Quiet, ratio  # noqa: E402

import imagevars  # noqa: E402
from imagevars.models.efficientnet_torch import from_onnx  # noqa: E402
from imagevars.tasks import get_task  # noqa: E402


def _crop(path: str) -> np.ndarray:
    img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    w, h = img.size
    s = round(min(w, h) * 0.875)
    box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
    return np.asarray(img.crop(box).resize((224, 224), Image.Resampling.BILINEAR))


def plain(paths: list[str], net, task: str) -> None:
    for i in range(0, len(paths), 32):
        batch = np.stack([_crop(p) for p in paths[i : i + 32]])
        x = (torch.from_numpy(batch).permute(0, 3, 1, 2).float() - 127) / 128
        with torch.inference_mode():
            if task == "classify":
                torch.softmax(net(x), 1).topk(5)
            else:
                net.features(x).numpy()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--per-round", type=int, default=200)
    p.add_argument("--int8", action="store_true", help="also time imagevars with efficientnet-lite0-int8")
    p.add_argument(
        "--in-process",
        action="store_true",
        help="also time imagevars with the network in this process on 2 threads (threads pinned)",
    )
    args = p.parse_args()
    torch.set_num_threads(2)
    net = from_onnx()
    files = photo_files(args.folder, args.rounds * args.per_round)
    mp = np.mean([np.prod(Image.open(f).size) for f in files[:: max(1, len(files) // 100)]]) / 1e6
    print(f"{len(files)} JPEGs, {mp:.1f} MP on average; {args.rounds} rounds of {args.per_round} images per side")
    hows = (
        ("plain", "imagevars")
        + (("imagevars int8",) if args.int8 else ())
        + (("imagevars here",) if args.in_process else ())
    )
    sides = [(task, how) for task in ("classify", "embed") for how in hows]
    rates: dict[tuple[str, str], list[float]] = {s: [] for s in sides}
    with Quiet() as q, tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            chunk = files[r * args.per_round : (r + 1) * args.per_round]
            for task, how in sides[r % len(sides) :] + sides[: r % len(sides)]:
                t = time.perf_counter()
                if how == "plain":
                    plain(chunk, net, task)
                else:
                    out = Path(tmp) / f"{task}{r}.parquet"
                    model = "efficientnet-lite0-int8" if how.endswith("int8") else "efficientnet-lite0"
                    pinned = {"threads": 2} if how.endswith("here") else {}
                    res = imagevars.run([get_task(task, model=model, **pinned)], chunk, out, workers=2, progress=False)
                    assert res.n_errors == 0
                rates[(task, how)].append(len(chunk) / (time.perf_counter() - t))
            print(
                f"round {r + 1}: " + ", ".join(f"{t} {h} {v[-1]:.1f}" for (t, h), v in rates.items()) + " img/s",
                flush=True,
            )
    for task in ("classify", "embed"):
        a, b = rates[(task, "imagevars")], rates[(task, "plain")]
        print(
            f"{task}: imagevars {statistics.median(a):.1f} img/s, plain PyTorch {statistics.median(b):.1f} img/s; "
            f"imagevars / plain = {ratio(statistics.median(x / y for x, y in zip(a, b)), 1.0)} (median of the rounds' ratios)"
        )
        if args.int8:
            c = rates[(task, "imagevars int8")]
            print(
                f"{task}, efficientnet-lite0-int8: {statistics.median(c):.1f} img/s; int8 / fp32 in the pipeline = "
                f"{ratio(statistics.median(x / y for x, y in zip(c, a)), 1.0)}"
            )
        if args.in_process:
            c = rates[(task, "imagevars here")]
            print(
                f"{task}, the network in this process on 2 threads: {statistics.median(c):.1f} img/s; copies in the "
                f"workers / here = {ratio(statistics.median(x / y for x, y in zip(a, c)), 1.0)}"
            )
    print(q.line())


if __name__ == "__main__":
    main()
