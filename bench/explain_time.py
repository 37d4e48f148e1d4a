"""Time to explain 20 MNIST test images against a 100-image background on the bundled model.

    python bench/explain_time.py [--rounds 3] [--threads 2]

Each method runs once per round, methods alternating within a round; medians are printed.
The figure the issue asks for is the DeepExplainer line (all ten classes per image, as the
lecture's figure shows them).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from quiet import watch  # noqa: E402  (bench/ is on the path when run as a script)


@watch
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--background", type=int, default=100)
    args = ap.parse_args()

    import torch

    import imagevars

    torch.set_num_threads(args.threads)
    (tx, _), (vx, _) = imagevars.datasets.mnist.load_data()
    model = imagevars.create_model("mnist-cnn", pretrained=True)
    cases = {
        "deep (SHAP DeepExplainer, 10 classes)": dict(method="deep"),
        "deep, top class only": dict(method="deep", targets="top"),
        "gradient (SHAP GradientExplainer, 200 samples, 10 classes)": dict(method="gradient"),
        "gradcam (captum LayerGradCam, 10 classes)": dict(method="gradcam"),
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    for r in range(args.rounds):
        for name, kw in cases.items():
            t = time.perf_counter()
            imagevars.explain(model, vx[: args.images], background=tx, n_background=args.background, seed=r, **kw)
            times[name].append(time.perf_counter() - t)
    print(
        f"{args.images} images, {args.background}-image background, {args.threads} threads, "
        f"torch {torch.__version__}, {args.rounds} rounds (median, min-max):"
    )
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:60s} {med:7.2f} s  ({min(ts):.2f}-{max(ts):.2f}); {med / args.images:.3f} s/image")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
