"""Where the lecture recipe's epoch goes, kernel by kernel, and whether data parallelism helps.

    python bench/lecture_kernels.py kernels          # ms per training step by kernel (2 threads, batch 128)
    python bench/lecture_kernels.py steps            # step time by threads and batch: what splitting a batch can gain
    python bench/lecture_kernels.py data-parallel --rounds 3   # an epoch: 2 processes x 1 thread vs fit's 1 x 2

kernels: torch.profiler over 100 steps of the shipped training step (fit's channels-last module, fused
Adam, freed memory kept), grouped by kernel and input shape, per step. The profiler adds about a
quarter to each step; the shares are what matter.

steps: the same step timed without the profiler at 2 threads / batch 128 (what fit runs), 1 thread /
batch 64 (one half of a data-parallel step) and 1 thread / batch 128. If one thread does half a batch
in nearly the time two threads do all of it, splitting the batch over processes cannot gain much.

data-parallel: the issue's untried idea, as a prototype here (not shipped): one process per core with
one thread each, each taking half of every batch of 128, the helper's gradients added to the main
process's through shared memory before each Adam step (the same mathematics as one batch of 128).
Sides alternate in fresh processes per round, each training 2 epochs on MNIST with validation_split
0.1; the second epoch is timed, validation included, as bench/lecture_epoch.py times it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from quiet import ratio, watch  # noqa: E402  (bench/ is on the path when run as a script)

DATA = os.environ.get(
    "IMAGEVARS_DATA_MNIST",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "mnist"),
)


def _step_fn(threads: int, batch: int):
    """(step, model) for the shipped training step on a random batch."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    import imagevars
    from imagevars.train.classifier import MEMORY_FORMAT

    model = imagevars.create_model("mnist-cnn")
    model.compile(optimizer="adam")
    model.module.train()
    x = torch.rand(batch, 1, 28, 28).contiguous(memory_format=MEMORY_FORMAT)
    y = torch.randint(0, 10, (batch,))

    def step():
        loss = F.cross_entropy(model.module(x), y)
        model.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        model.optimizer.step()

    return step


def kernels() -> None:
    from torch.profiler import profile

    from imagevars._memory import reuse_freed_memory

    step, n = _step_fn(2, 128), 100
    with reuse_freed_memory():
        for _ in range(30):
            step()
        with profile(record_shapes=True) as prof:
            for _ in range(n):
                step()
    rows = [
        (e.self_cpu_time_total / n / 1e3, e.key, str(e.input_shapes[0]) if e.input_shapes else "")
        for e in prof.key_averages(group_by_input_shape=True)
        if e.self_cpu_time_total > 0
    ]
    rows.sort(reverse=True)
    total = sum(r[0] for r in rows)
    print(f"shipped step, 2 threads, batch 128, under the profiler: {total:.2f} ms per step")
    for ms, name, shape in rows[:14]:
        print(f"  {ms:6.2f} ms  {ms / total:5.1%}  {name:45s} {shape}")


def _time_steps(threads: int, batch: int) -> float:
    code = (
        f"import sys, time; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})\n"
        f"from lecture_kernels import _step_fn\nfrom imagevars._memory import reuse_freed_memory\n"
        f"step = _step_fn({threads}, {batch})\n"
        "with reuse_freed_memory():\n"
        "    for _ in range(30): step()\n"
        "    t = time.perf_counter()\n"
        "    for _ in range(300): step()\n"
        "print((time.perf_counter() - t) / 300)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def steps(rounds: int) -> None:
    configs = [(2, 128), (1, 64), (1, 128)]
    times: dict = {c: [] for c in configs}
    for _ in range(rounds):
        for c in configs:
            times[c].append(_time_steps(*c))
    med = {c: statistics.median(v) for c, v in times.items()}
    for (th, b), s in med.items():
        print(f"  {th} thread(s), batch {b}: {s * 1e3:.2f} ms per step ({s / b * 1e6:.0f} us per image)")
    print(
        f"two threads on one batch: {ratio(med[(1, 128)], med[(2, 128)])} one thread's speed; "
        f"the most that splitting each batch over two single-thread processes can gain: "
        f"{ratio(med[(2, 128)], med[(1, 64)])} (before any synchronisation)"
    )


def _fit_epoch() -> float:
    import torch

    torch.set_num_threads(2)
    import imagevars
    from imagevars.train import Callback

    (x, y), _ = imagevars.datasets.mnist.load_data(DATA)
    model = imagevars.create_model("mnist-cnn")
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    times = []

    class T(Callback):
        def on_epoch_begin(self, e, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, e, logs=None):
            times.append(time.perf_counter() - self.t)

    model.fit(x, y, batch_size=128, epochs=2, validation_split=0.1, verbose=0, callbacks=[T()])
    return times[-1]


def _parallel_epoch(batch: int = 128, epochs: int = 2) -> float:
    """The data-parallel prototype: this process and one forked helper, one thread each, half a batch each."""
    import multiprocessing as mp

    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    import imagevars
    from imagevars._memory import reuse_freed_memory
    from imagevars.train.arrays import to_inputs, to_labels
    from imagevars.train.classifier import MEMORY_FORMAT

    (x, y), _ = imagevars.datasets.mnist.load_data(DATA)
    model = imagevars.create_model("mnist-cnn")
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    xt, yt = to_inputs(x, model.card, "x"), to_labels(y, 10, "y")
    n_val = int(len(xt) * 0.1)
    xv, yv, xt, yt = xt[-n_val:], yt[-n_val:], xt[:-n_val], yt[:-n_val]
    module, params = model.module, list(model.module.parameters())
    for p in params:
        p.data.share_memory_()  # the helper reads the weights Adam updates here
    size = sum(p.numel() for p in params)
    grads = torch.zeros(size + 1).share_memory_()  # the helper's gradients, then its summed loss
    order, step_no = (
        torch.zeros(len(xt), dtype=torch.int64).share_memory_(),
        torch.zeros(2, dtype=torch.int64).share_memory_(),
    )
    go, done = mp.Semaphore(0), mp.Semaphore(0)

    def halves(step: int):
        lo, hi = step * batch, min(step * batch + batch, len(xt))
        return (lo, (lo + hi) // 2), ((lo + hi) // 2, hi), hi - lo

    def backward(rows, n_batch: int) -> torch.Tensor:
        idx = order[rows[0] : rows[1]]
        logits = module(xt[idx].contiguous(memory_format=MEMORY_FORMAT))
        loss = F.cross_entropy(logits, yt[idx], reduction="sum") / n_batch  # the halves' sum: the batch's mean
        for p in params:
            p.grad = None
        loss.backward()
        return loss.detach()

    def helper():
        torch.manual_seed(1)  # its own dropout masks
        with reuse_freed_memory():
            while True:
                go.acquire()
                if step_no[1]:
                    return
                _, rows, n = halves(int(step_no[0]))
                grads[size] = backward(rows, n)
                torch.cat([p.grad.reshape(-1) for p in params], out=grads[:size])
                done.release()

    proc = mp.get_context("fork").Process(target=helper, daemon=True)
    proc.start()
    rng, times = np.random.default_rng(0), []
    with reuse_freed_memory():
        for _ in range(epochs):
            t = time.perf_counter()
            module.train()
            order.copy_(torch.from_numpy(rng.permutation(len(xt))))
            for step in range(-(-len(xt) // batch)):
                step_no[0] = step
                go.release()
                rows, _, n = halves(step)
                backward(rows, n)
                done.acquire()
                offset = 0
                for p in params:
                    p.grad.add_(grads[offset : offset + p.numel()].view_as(p.grad))
                    offset += p.numel()
                model.optimizer.step()
            model._evaluate(xv, yv, batch_size=256)
            times.append(time.perf_counter() - t)
    step_no[1] = 1
    go.release()
    proc.join()
    return times[-1]


def data_parallel(rounds: int) -> None:
    me = os.path.abspath(__file__)
    fit, dp = [], []
    for r in range(rounds):
        for side, out in (("fit", fit), ("parallel", dp)):
            res = subprocess.run([sys.executable, me, "_epoch", side], check=True, capture_output=True, text=True)
            out.append(next(json.loads(line[6:]) for line in res.stdout.splitlines() if line.startswith("epoch ")))
        print(
            f"round {r + 1}: fit (1 process, 2 threads) {fit[-1]:.2f} s/epoch, "
            f"data-parallel (2 processes, 1 thread each) {dp[-1]:.2f} s/epoch",
            flush=True,
        )
    f, d = statistics.median(fit), statistics.median(dp)
    print(f"medians: fit {f:.2f} s, data-parallel {d:.2f} s per epoch: data-parallel is {ratio(f, d)} fit's speed")


@watch
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["kernels", "steps", "data-parallel", "_epoch"])
    ap.add_argument("side", nargs="?", help=argparse.SUPPRESS)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.what == "_epoch":
        print("epoch", json.dumps(_fit_epoch() if args.side == "fit" else _parallel_epoch()))
        return
    {
        "kernels": lambda: kernels(),
        "steps": lambda: steps(args.rounds),
        "data-parallel": lambda: data_parallel(args.rounds),
    }[args.what]()


if __name__ == "__main__":
    main()
