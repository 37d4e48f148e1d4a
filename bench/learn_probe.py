"""A real offline check of learning a measure: Fashion-MNIST with 100, 1,000 and 10,000 labels.

    apt-get install dataset-fashion-mnist       # Debian's package: the real images, offline
    python bench/learn_probe.py [--test 2000] [--sizes 100,1000,10000]

Two ways to a classifier from the same labels, tested on the same held-out test images:
- ``imagevars learn`` (a linear probe on EfficientNet-Lite0's ImageNet features, the penalty chosen
  by cross-validation inside the training labels), with ``--split`` so it is tested once on the
  test images;
- imagevars' from-scratch lecture CNN (``create_model("mnist-cnn")`` with Fashion-MNIST's classes),
  trained for at least 400 optimizer steps (the lecture's 10 epochs are too few steps for 100 labels).

Prints test accuracy for each, and how busy the machine was (bench/quiet.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from quiet import Quiet  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--test", type=int, default=2000)
    p.add_argument("--sizes", default="100,1000,10000")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    sizes = sorted((int(s) for s in args.sizes.split(",")), reverse=True)

    import pandas as pd

    from imagevars.datasets import fashion_mnist
    from imagevars.learn import learn

    (tx, ty), (vx, vy) = fashion_mnist.load_data()
    rng = np.random.default_rng(args.seed)
    test = rng.choice(len(vx), args.test, replace=False)
    pool = rng.permutation(len(tx))[: max(sizes)]  # nested: the 100 are among the 1,000, among the 10,000
    rows = {}
    with tempfile.TemporaryDirectory() as tmp, Quiet() as q:
        folder = Path(tmp)
        for i in pool:
            Image.fromarray(tx[i]).save(folder / f"train{i}.png")
        for i in test:
            Image.fromarray(vx[i]).save(folder / f"test{i}.png")
        out = folder / "probe"
        for n in sizes:  # the largest first: the features cache then serves the smaller ones
            train = pool[:n]
            labels = pd.DataFrame(
                {
                    "path": [str(folder / f"train{i}.png") for i in train]
                    + [str(folder / f"test{i}.png") for i in test],
                    "label": [str(ty[i]) for i in train] + [str(vy[i]) for i in test],
                    "role": ["train"] * n + ["test"] * len(test),
                }
            )
            labels.to_csv(folder / "labels.csv", index=False)
            t0 = time.perf_counter()
            report = learn(
                folder / "labels.csv", ["label"], out, split="role == 'train'", seed=args.seed, progress=False
            )
            probe = report.results["label"]["metrics"]["accuracy"]
            t1 = time.perf_counter()
            cnn = _cnn(tx[train], ty[train], vx[test], vy[test], args.seed)
            rows[n] = {"probe": probe, "probe_s": t1 - t0, "cnn": cnn, "cnn_s": time.perf_counter() - t1}
            print(
                f"{n:>6} labels: linear probe {probe['mean']:.3f} [{probe['low']:.3f}, {probe['high']:.3f}] "
                f"({t1 - t0:.0f} s; the first size encodes every image, the others reuse its features); from-scratch CNN {cnn:.3f} "
                f"({rows[n]['cnn_s']:.0f} s)",
                flush=True,
            )
    print(q.line())
    print(json.dumps({str(k): {"probe": v["probe"]["mean"], "cnn": v["cnn"]} for k, v in rows.items()}))


def _cnn(x, y, vx, vy, seed: int) -> float:
    import math

    import imagevars
    from imagevars.train import set_seed

    set_seed(seed)
    labels = [str(c) for c in range(10)]
    model = imagevars.create_model("mnist-cnn", labels=labels)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    epochs = max(10, math.ceil(400 * 128 / len(x)))  # at least 400 steps of 128
    model.fit(x, y, batch_size=min(128, len(x)), epochs=epochs, verbose=0, seed=seed)
    return float((model.predict(vx).argmax(1) == vy).mean())


if __name__ == "__main__":
    main()
