"""Throughput of `detect` (bundled CenterNet, onnxruntime) on real-size JPEGs, decode included.

Sides, alternated in each round over a new slice of the folder:

- reference: the lecture's way in one process: Pillow open, EXIF transpose, RGB, full decode,
  resize to 512x512, one onnxruntime run per image (2 threads), the variables computed.
- imagevars: `imagevars.run([DetectTask(threads=T)], paths, workers=W)`: decoding (reduced-size
  JPEG decode) in W worker processes overlapped with the model in this process; with T `auto`
  (`DetectTask()`, the default), each worker runs its own single-thread copy of the model next to
  its decoding (`pipeline.engines.models_in_workers`).
- model-only: the onnxruntime runs alone on pre-decoded 512x512 images (2 threads): the
  ceiling the issue names (issue 23).
- model-only, 2 copies: the same images split between 2 processes, each with its own
  single-thread copy: the stricter ceiling, the model's own rate as imagevars now runs it.

    python bench/make_photos.py bench/data/jpegs --n 2000
    python bench/detect_throughput.py bench/data/jpegs --rounds 3 --per-round 350
    python bench/detect_throughput.py bench/data/jpegs --rounds 3 --per-round 200 --configs 2:1,2:2 --before 1024
    python bench/detect_throughput.py bench/data/jpegs --rounds 3 --per-round 200 --configs auto:2,2:2
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
from make_photos import photo_files  # noqa: E402  (bench/ is on the path when run as a script)
from PIL import Image, ImageOps  # noqa: E402
from quiet import ratio, watch  # noqa: E402  (bench/ is on the path when run as a script)

import imagevars  # noqa: E402
from imagevars.tasks.detect import DetectTask  # noqa: E402

_COPY: dict = {}


def _build_copy(warm: np.ndarray) -> None:
    """In a forked process: its single-thread copy of the detector, built and run once before any timing."""
    _COPY["task"] = DetectTask(threads=1)
    _COPY["task"].model.predict(warm)


def _copy_predicts(canned: np.ndarray) -> int:
    _COPY["task"].model.predict(canned)
    return len(canned)


def reference(paths: list[str], task: DetectTask) -> None:
    for p in paths:
        img = ImageOps.exif_transpose(Image.open(p)).convert("RGB").resize((512, 512), Image.Resampling.BILINEAR)
        task.variables(task.model.predict(np.asarray(img)[None])[0])


@watch
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--per-round", type=int, default=350)
    ap.add_argument(
        "--configs",
        default="auto:2,2:1,2:2",
        help="imagevars settings as threads:workers, comma-separated "
        "(threads auto: the task's default, a single-thread model copy in each worker)",
    )
    ap.add_argument(
        "--before",
        type=int,
        help="also imagevars (first config) decoding to this longer side instead "
        "of covering the input (the decode before io.decode.Cover: 1024)",
    )
    args = ap.parse_args()
    files = photo_files(args.folder, args.rounds * args.per_round)
    configs = [tuple(None if x == "auto" else int(x) for x in c.split(":")) for c in args.configs.split(",")]
    ref_task = DetectTask(threads=2)
    tasks = {c: DetectTask(threads=c[0]) for c in configs}
    if args.before:
        before = DetectTask(threads=configs[0][0])
        before.max_side = args.before
        tasks[(*configs[0], args.before)] = before
    canned = np.stack([np.asarray(Image.open(f).convert("RGB").resize((512, 512))) for f in files[:20]])
    names = {c: f"imagevars t{c[0] or 'auto'} w{c[1]}" + (f" decode<={c[2]}px" if len(c) > 2 else "") for c in tasks}
    rates: dict[str, list[float]] = {
        "reference": [],
        "model-only": [],
        "model-only 2 copies": [],
        **{names[c]: [] for c in tasks},
    }
    copies = ProcessPoolExecutor(
        2, mp_context=multiprocessing.get_context("fork"), initializer=_build_copy, initargs=(canned[:1],)
    )
    list(copies.map(_copy_predicts, [canned[:4], canned[:4]]))  # both processes started before any timing
    print(f"{len(files)} JPEGs; {args.rounds} rounds of {args.per_round} images per side")
    for r in range(args.rounds):
        chunk = files[r * args.per_round : (r + 1) * args.per_round]
        sample = chunk[:100]  # the reference is slow: at most 100 images a round
        t = time.perf_counter()
        reference(sample, ref_task)
        rates["reference"].append(len(sample) / (time.perf_counter() - t))
        for config, task in tasks.items() if r % 2 == 0 else reversed(list(tasks.items())):
            t = time.perf_counter()
            res = imagevars.run([task], chunk, workers=config[1], progress=False, batch_size=8)
            assert res.n_errors == 0
            rates[names[config]].append(len(chunk) / (time.perf_counter() - t))
        t = time.perf_counter()
        for _ in range(3):
            ref_task.model.predict(canned)
        rates["model-only"].append(3 * len(canned) / (time.perf_counter() - t))
        t = time.perf_counter()
        done = sum(copies.map(_copy_predicts, [canned[k::2] for k in range(2)] * 3))
        rates["model-only 2 copies"].append(done / (time.perf_counter() - t))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in rates.items()) + " img/s", flush=True)
    med = {k: statistics.median(v) for k, v in rates.items()}
    print("medians (img/s): " + ", ".join(f"{k} {v:.2f}" for k, v in med.items()))
    best = max((k for k in med if k.startswith("imagevars")), key=med.get)
    print(
        f"best imagevars setting {best}: {med[best]:.2f} img/s = {ratio(med[best], med['reference'])} the reference, "
        f"{med[best] / med['model-only']:.0%} of model-only, {med[best] / med['model-only 2 copies']:.0%} of model-only "
        "with 2 copies"
    )
    copies.shutdown()
    if args.before:
        now, old = names[configs[0]], names[(*configs[0], args.before)]
        print(
            f"{now} / {old}: {ratio(med[now], med[old])} ({med[old] / med['model-only']:.0%} -> "
            f"{med[now] / med['model-only']:.0%} of model-only)"
        )


if __name__ == "__main__":
    main()
