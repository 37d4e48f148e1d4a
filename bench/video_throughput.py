"""Video: sparse-sampling cost, detection speed against real time, and memory on a long video.

    python bench/video_throughput.py --make bench/data/long720.mp4 --minutes 10   # once: a 10-minute 720p video
    python bench/video_throughput.py bench/data/long720.mp4 ../shared/data/video/bigbuckbunny.mp4

Figures, for each video (median of --rounds, sides alternated within a round):
- decode every frame (to RGB, as a plain PyAV loop does) vs imagevars.io.video.frames at 1 fps:
  the issue's target is sparse <= 30% of every-frame decoding;
- `imagevars.run([detect], video, every="1s")` on 2 cores: seconds of video per wall second
  (target >= 5x real time on 720p);
- peak memory of that run in a fresh process, on the first minute and on the whole video.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from quiet import ratio, watch  # noqa: E402  (bench/ is on the path when run as a script)


def make(path: str, minutes: float, fps: int = 24) -> None:
    """A 1280x720 H.264 video: scikit-image's photos panning past, a new one every 20 s."""
    import av
    import skimage.data
    from PIL import Image

    photos = [
        np.asarray(Image.fromarray(getattr(skimage.data, n)()).convert("RGB").resize((1920, 1080)))
        for n in ("astronaut", "coffee", "chelsea", "rocket")
    ]
    n = int(minutes * 60 * fps)
    with av.open(path, "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 1280, 720, "yuv420p"
        s.options = {"preset": "veryfast", "crf": "23", "g": str(5 * fps)}  # a keyframe every 5 s
        for i in range(n):
            photo = photos[(i // (20 * fps)) % len(photos)]
            x = int(640 * ((i % (20 * fps)) / (20 * fps)))
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(photo[180:900, x : x + 1280]), format="rgb24")
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def decode_all(path: str) -> int:
    import av

    n = 0
    with av.open(path) as c:
        for frame in c.decode(c.streams.video[0]):
            frame.to_ndarray(format="rgb24")
            n += 1
    return n


def sparse(path: str) -> int:
    from imagevars.io.video import frames

    return sum(1 for _ in frames(path, "1s"))


_CHILD = """
import json, resource, sys, time, imagevars
t = time.perf_counter()
r = imagevars.run(["detect"], sys.argv[1], every="1s", progress=False, segment_s=30)
print(json.dumps({"rows": len(r), "seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "children_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def detect_run(path: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, path],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "IMAGEVARS_THREADS": os.environ.get("IMAGEVARS_THREADS", "2")},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_minute(path: str) -> str:
    import av

    out = path + ".first-minute.mp4"
    if not os.path.exists(out):
        with av.open(path) as src, av.open(out, "w") as dst:
            s = src.streams.video[0]
            o = dst.add_stream_from_template(s)
            for packet in src.demux(s):
                if packet.dts is None:
                    continue
                if packet.pts is not None and packet.pts * s.time_base >= 60:
                    break
                packet.stream = o
                dst.mux(packet)
    return out


@watch
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("videos", nargs="*")
    ap.add_argument("--make")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.make:
        t = time.perf_counter()
        make(args.make, args.minutes)
        print(f"made {args.make} in {time.perf_counter() - t:.0f} s")
    from imagevars.io.video import probe

    for path in args.videos:
        info = probe(path)
        print(f"\n{path}: {info.duration_s:.1f} s, {info.width}x{info.height}, {info.fps:g} fps, {info.codec}")
        full, few = [], []
        for _ in range(args.rounds):
            t = time.perf_counter()
            n_all = decode_all(path)
            full.append(time.perf_counter() - t)  # noqa: E702
            t = time.perf_counter()
            n_few = sparse(path)
            few.append(time.perf_counter() - t)  # noqa: E702
        f, s = statistics.median(full), statistics.median(few)
        print(
            f"  decode every frame to RGB ({n_all} frames): {f:.2f} s; 1 fps with imagevars ({n_few} frames): "
            f"{s:.2f} s = {s / f:.0%} of it"
        )
        runs = [detect_run(path) for _ in range(max(1, args.rounds - 1))]
        secs = statistics.median(r["seconds"] for r in runs)
        print(
            f"  detect at 1 fps: {runs[0]['rows']} rows in {secs:.1f} s = {ratio(info.duration_s, secs, '{:.1f}x')} real time; "
            f"peak memory {runs[0]['peak_mb']:.0f} MB (workers {runs[0]['children_peak_mb']:.0f} MB)"
        )
        if info.duration_s > 120:
            short = detect_run(first_minute(path))
            print(
                f"  first minute alone: peak memory {short['peak_mb']:.0f} MB (workers "
                f"{short['children_peak_mb']:.0f} MB): flat if close to the whole video's"
            )


if __name__ == "__main__":
    main()
