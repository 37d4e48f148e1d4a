"""Time per epoch of the lecture recipe: imagevars (PyTorch) against the lecture's own Keras code.

Same data (MNIST from ../shared or $IMAGEVARS_DATA), same machine, same run: each round starts
one fresh process per side, alternating, each training 2 epochs with batch 128, Adam,
validation_split 0.1; the second (warm) epoch is timed. Both sides get the same thread count.
Reports the medians and their ratio, and the median of the rounds' own ratios.

    python bench/lecture_epoch.py --keras-python .venv-bench-tf/bin/python --rounds 3

Where the time goes (2 threads, torch.profiler and timers): a step of batch 128 takes 20-25 ms,
three quarters of it in oneDNN's convolutions (conv2: forward ~4 ms, weight gradient ~6 ms,
input gradient ~5 ms; conv1 and its pool ~4 ms). PyTorch's own im2col path is 2.5x slower.
Tried and not shipped, each checked to compute the same outputs and gradients (session 5):
weight gradients as im2col + MKL GEMM (0.94-1.11x per step: no consistent gain); conv1 as
GEMM (0.97-1.02x); a numba kernel fusing conv1, pool and ReLU that never writes the 9.4 MB
full-size gradient (1.08-1.12x in 20-step segments, but 0.97x per epoch over 6 alternating
process pairs; its parallel loops run on a second OpenMP runtime beside PyTorch's); 128 as 2 x 64 or
4 x 32 accumulated micro-batches (0.90x, 0.80x); validation batches over 256 or under
inference_mode (no gain). Data parallelism (session 31, bench/lecture_kernels.py): two processes of
one thread, half of every batch each, gradients summed in shared memory before each Adam step:
1.04x fit per epoch (4.38 vs 4.54 s), because two threads already run a step 1.87x faster than one
(10.6 vs 19.9 ms); where the step's time goes, kernel by kernel: `lecture_kernels.py kernels`.

bfloat16 (session 33): this CPU has AMX, and ``compile(precision="mixed_bfloat16")`` runs a step
of the lecture's network in 6.2 ms instead of 17-20 ms. ``--precision mixed_bfloat16`` times
imagevars so, against the lecture's Keras code as written (float32); ``--keras-precision
mixed_bfloat16`` sets Keras's global policy too, for the like-for-like figure. Quiet machine, 5
rounds: 2.88 vs 6.61 s per epoch (2.30x; 0.43x Keras's time) and, both in bfloat16, 2.94 vs 4.01 s
(1.36x). Keras's float32 epoch is bimodal across fresh processes on a quiet machine (6.1-6.8 s or
9.5-10.2 s), which alone moves the float32 ratio between 1.27x and 1.84x: read several rounds.

    python bench/lecture_epoch.py --keras-python .venv-bench-tf/bin/python --rounds 5 --precision mixed_bfloat16
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap

from quiet import ratio, watch  # noqa: E402  (bench/ is on the path when run as a script)

KERAS = textwrap.dedent(
    """
    import json, os, sys, time
    import numpy as np
    import tensorflow as tf
    import keras
    from keras import layers
    tf.config.threading.set_intra_op_parallelism_threads({threads})
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.mixed_precision.set_global_policy({keras_precision!r})
    sys.path.insert(0, {src!r})
    from imagevars.datasets import mnist           # the same IDX files, parsed the same way
    (train_X, train_Y), _ = mnist.load_data({data!r})
    train_X = (train_X.astype("float32") / 255)[..., None]
    train_Y = keras.utils.to_categorical(train_Y, 10)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    times = []
    class T(keras.callbacks.Callback):
        def on_epoch_begin(self, e, logs=None): self.t = time.perf_counter()
        def on_epoch_end(self, e, logs=None): times.append(time.perf_counter() - self.t)
    model.fit(train_X, train_Y, batch_size=128, epochs=2, validation_split=0.1, verbose=0, callbacks=[T()])
    print(json.dumps({{"epoch_s": times[-1]}}))
    """
)

IMAGEVARS = textwrap.dedent(
    """
    import json, time
    import torch
    torch.set_num_threads({threads})
    import imagevars
    from imagevars.train import Callback
    (train_X, train_Y), _ = imagevars.datasets.mnist.load_data({data!r})
    model = imagevars.create_model("mnist-cnn")
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"], precision={precision!r})
    times = []
    class T(Callback):
        def on_epoch_begin(self, e, logs=None): self.t = time.perf_counter()
        def on_epoch_end(self, e, logs=None): times.append(time.perf_counter() - self.t)
    model.fit(train_X, train_Y, batch_size=128, epochs=2, validation_split=0.1, verbose=0, callbacks=[T()])
    print(json.dumps({{"epoch_s": times[-1]}}))
    """
)


def run(python: str, code: str) -> float:
    out = subprocess.run(
        [python, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["epoch_s"]


@watch
def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keras-python", required=True, help="a Python with tensorflow-cpu installed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--precision",
        choices=("float32", "mixed_bfloat16"),
        default="float32",
        help="imagevars's precision (compile(precision=...))",
    )
    parser.add_argument(
        "--keras-precision",
        choices=("float32", "mixed_bfloat16"),
        default="float32",
        help="Keras's global dtype policy (float32: the lecture's code as written)",
    )
    parser.add_argument(
        "--data",
        default=os.environ.get("IMAGEVARS_DATA_MNIST", os.path.join(here, "..", "..", "shared", "data", "mnist")),
    )
    args = parser.parse_args()
    src = os.path.join(here, "..", "src")
    fmt = {
        "threads": args.threads,
        "data": os.path.abspath(args.data),
        "src": os.path.abspath(src),
        "precision": args.precision,
        "keras_precision": args.keras_precision,
    }
    keras_s, ours_s = [], []
    for r in range(args.rounds):
        keras_s.append(run(args.keras_python, KERAS.format(**fmt)))
        ours_s.append(run(sys.executable, IMAGEVARS.format(**fmt)))
        print(f"round {r + 1}: keras {keras_s[-1]:.2f} s/epoch, imagevars {ours_s[-1]:.2f} s/epoch", flush=True)
    k, o = statistics.median(keras_s), statistics.median(ours_s)
    paired = statistics.median(a / b for a, b in zip(keras_s, ours_s))
    print(
        f"median over {args.rounds} rounds, {args.threads} threads: keras ({args.keras_precision}) {k:.2f} s/epoch, "
        f"imagevars ({args.precision}) {o:.2f} s/epoch, imagevars is {ratio(k, o)} keras's speed "
        f"(median of the rounds' own ratios: {ratio(paired, 1.0)})"
    )


if __name__ == "__main__":
    main()
