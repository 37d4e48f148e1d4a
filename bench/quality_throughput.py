"""Throughput of `quality` on real-size JPEGs, side by side with a plain Pillow loop.

Sides, alternated in each round over the same slice of the folder (a new slice each round, the
order of the sides rotating), each starting its own processes inside its timing:

- plain: one process, as most scripts are written: Pillow open, EXIF transpose, RGB, full
  decode, thumbnail to 512 px, then the same variables (imagevars.tasks.quality.measure).
- imagevars: `imagevars.run(["quality"], paths)` with 2 worker processes (DCT-reduced decode).
- decode-only: the machine's JPEG decode rate, 2 processes, reduced-size decode to 512 px
  (imagevars.io.decode.decode: DCT-scaled decode, EXIF orientation, RGB, resize to 512 px),
  nothing else: the ceiling for any pipeline that measures 512 px pictures.
- jpeg-only: libjpeg alone, 2 processes: the DCT-scaled decode (Pillow's draft), no
  orientation, conversion or resize; the strictest reading of "decode only".
- CPU share: CPU time per image in one worker-like process, decode alone against decode +
  quality, alternating: the same share as imagevars / decode-only, free of scheduling noise.
- overhead: the pipeline with a no-op task on 8x8 PNGs, in-process and with 2 workers.

    python bench/make_photos.py bench/data/jpegs --n 2000
    python bench/quality_throughput.py bench/data/jpegs --rounds 5 --per-round 400
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
from make_photos import photo_files  # noqa: E402  (bench/ is on the path when run as a script)
from PIL import Image, ImageOps  # noqa: E402
from quiet import ratio, watch  # noqa: E402  (bench/ is on the path when run as a script)

import imagevars  # noqa: E402
from imagevars._memory import keep_freed_memory  # noqa: E402
from imagevars.io.decode import Decoded, decode  # noqa: E402
from imagevars.tasks.base import Task  # noqa: E402
from imagevars.tasks.quality import measure  # noqa: E402


def plain(paths: list[str]) -> None:
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        img = ImageOps.exif_transpose(Image.open(p)).convert("RGB")
        w, h = img.size
        img.thumbnail((512, 512), Image.Resampling.BILINEAR)
        measure(Decoded(np.asarray(img), w, h, len(data), "JPEG", "RGB"))


def _decode_chunk(paths: list[str]) -> int:
    for p in paths:
        with open(p, "rb") as f:
            decode(f.read(), p, max_side=512)
    return len(paths)


def _jpeg_chunk(paths: list[str]) -> int:
    import io

    for p in paths:
        with open(p, "rb") as f:
            img = Image.open(io.BytesIO(f.read()))
        scale = 512 / max(img.size)
        img.draft("RGB", (int(img.size[0] * scale) + 1, int(img.size[1] * scale) + 1))
        img.load()
    return len(paths)


def decode_only(paths: list[str], chunk=_decode_chunk) -> None:
    """2 fresh worker processes, as `imagevars.run` starts its own: both sides pay the start."""
    chunks = [paths[i : i + 8] for i in range(0, len(paths), 8)]
    with ProcessPoolExecutor(2) as pool:
        sum(pool.map(chunk, chunks))


def _cpu_per_image(paths: list[str], rounds: int) -> dict[str, list[float]]:
    """CPU ms per image in this process, decode alone and decode + quality, alternating."""
    ms: dict[str, list[float]] = {"decode": [], "decode+quality": []}
    per = len(paths) // rounds
    for r in range(rounds):
        chunk = paths[r * per : (r + 1) * per]
        for side in ms:
            t = time.process_time()
            for p in chunk:
                with open(p, "rb") as f:
                    d = decode(f.read(), p, max_side=512)
                if side == "decode+quality":
                    measure(d)
            ms[side].append((time.process_time() - t) / len(chunk) * 1000)
    return ms


def _nothing(decoded):
    return None


class NoOp(Task):
    name = "noop"
    max_side = None

    def preprocessor(self):
        return _nothing

    def fields(self):
        return []

    def __call__(self, batch):
        return {}


@watch
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--per-round", type=int, default=400)
    args = p.parse_args()
    files = photo_files(args.folder, args.rounds * args.per_round)
    mp = np.mean([np.prod(Image.open(f).size) for f in files[:: max(1, len(files) // 200)]]) / 1e6
    print(f"{len(files)} JPEGs, {mp:.1f} MP on average; {args.rounds} rounds of {args.per_round} images per side")
    rates: dict[str, list[float]] = {"plain": [], "imagevars": [], "decode-only": [], "jpeg-only": []}
    for r in range(args.rounds):
        chunk = files[r * args.per_round : (r + 1) * args.per_round]
        sides = list(rates)
        for side in sides[r % len(sides) :] + sides[: r % len(sides)]:  # each side takes each slot in turn
            t = time.perf_counter()
            if side == "plain":
                plain(chunk)
            elif side == "imagevars":
                res = imagevars.run(["quality"], chunk, workers=2, progress=False)
                assert res.n_errors == 0
            elif side == "decode-only":
                decode_only(chunk)
            else:
                decode_only(chunk, _jpeg_chunk)
            rates[side].append(len(chunk) / (time.perf_counter() - t))
        print(
            f"round {r + 1}: "
            + ", ".join(f"{k} {v[-1]:.1f} img/s" for k, v in rates.items())
            + f"; imagevars / decode-only {rates['imagevars'][-1] / rates['decode-only'][-1]:.0%}",
            flush=True,
        )
    med = {k: statistics.median(v) for k, v in rates.items()}
    print("medians: " + ", ".join(f"{k} {v:.1f} img/s" for k, v in med.items()))
    print(
        f"imagevars / plain loop = {ratio(med['imagevars'], med['plain'])}; "
        f"imagevars / decode-only = {med['imagevars'] / med['decode-only']:.0%} "
        f"(median of the rounds' own ratios: "
        f"{statistics.median(a / b for a, b in zip(rates['imagevars'], rates['decode-only'])):.0%}); "
        f"imagevars / jpeg-only = {med['imagevars'] / med['jpeg-only']:.0%}"
    )

    # the same share without scheduling noise: CPU time in one worker-like process (one thread,
    # freed memory kept as the pipeline's workers keep it), the two sides alternating
    with ProcessPoolExecutor(1, initializer=keep_freed_memory) as pool:
        ms = pool.submit(_cpu_per_image, files[: 200 * args.rounds], args.rounds).result()
    shares = [a / b for a, b in zip(ms["decode"], ms["decode+quality"])]
    print(
        f"CPU per image, one process: decode {statistics.median(ms['decode']):.2f} ms, decode + quality "
        f"{statistics.median(ms['decode+quality']):.2f} ms: quality runs at {statistics.median(shares):.0%} "
        f"of the decode rate (rounds {min(shares):.0%}-{max(shares):.0%})"
    )

    with tempfile.TemporaryDirectory() as tmp:
        tiny = []
        for i in range(2000):
            path = os.path.join(tmp, f"{i:05d}.png")
            Image.new("RGB", (8, 8), (i % 256, 0, 0)).save(path)
            tiny.append(path)
        for workers in (0, 2):
            per = []
            for _ in range(3):
                t = time.perf_counter()
                imagevars.run([NoOp()], tiny, workers=workers, progress=False)
                per.append((time.perf_counter() - t) / len(tiny) * 1000)
            print(
                f"no-op task on 8x8 PNGs, workers={workers}: {statistics.median(per):.3f} ms per image "
                "(read + decode + pipeline)"
            )


if __name__ == "__main__":
    main()
