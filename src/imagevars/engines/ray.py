"""The Ray engine: the same run on Ray actors (an existing Ray cluster, or a local one started for the run).

As with :mod:`imagevars.engines.dask`, the runner stays the driver (inputs, schema, sink, resume,
provenance) and only the work moves: chunks of inputs go, in input order, to a pool of actors,
each of which builds the run's tasks once from their specs and returns each input's output
columns or its error; results are drained in input order into the same sink, so the table is the
local engine's, row for row. Each actor reserves ``cpus`` CPUs (and ``gpus`` GPUs) and its models
use that many threads. With ``decoders`` (by default when actors hold GPUs), one-CPU decode actors
read, decode and preprocess each chunk and Ray hands it straight to a model actor, which only runs
the models (on its GPU: :mod:`imagevars.models.device`); the decode actors get the tasks'
preprocessors from the driver and never load a model.

Ray binds every network interface unless ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` is set before
``import ray``; a local cluster started here sets it, with usage statistics off, so every server
listens on 127.0.0.1.

Example:
    >>> import imagevars
    >>> imagevars.run(["detect"], "PHOTOS/", "o.parquet", engine="ray",
    ...               engine_options={"address": "auto", "actors": 8, "cpus": 2})  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from typing import Any

from .._extras import require
from ..io.sources import Item
from .cluster import in_order
from .local import decode_sides


class _Measurer:
    """An actor: the run's tasks built once, then chunk after chunk measured (:mod:`imagevars.engines.cluster`)."""

    def __init__(self, specs: str, init_rest: tuple, threads: int, gpus: float = 0):
        self.specs, self.init_rest, self.threads = specs, init_rest, threads
        if gpus:  # Ray gave this actor its GPU(s) (CUDA_VISIBLE_DEVICES): the models go there (models.device)
            os.environ["IMAGEVARS_DEVICE"] = "cuda"

    def measure(self, items: list[Item]) -> list[tuple]:
        from .cluster import measure_chunk

        return measure_chunk(self.specs, self.init_rest, self.threads, items)

    def call(self, items: list[Item], prepared: list[tuple]) -> list[tuple]:
        """The tasks' calls on a chunk a decode actor prepared (Ray hands the prepared chunk over itself)."""
        from .cluster import call_chunk, worker_tasks

        return call_chunk(worker_tasks(self.specs, self.init_rest, self.threads), items, prepared)


class _Decoder:
    """A decode actor: reads, decodes and preprocesses chunks (the local engine's worker step) for the model
    actors, which then only call the tasks: the model on a GPU, the decoding on the cluster's CPUs."""

    def __init__(self, preprocessors: list, init_rest: tuple):
        from .local import init_worker

        init_worker(preprocessors, *init_rest, single_thread=False)

    def prepare(self, items: list[Item]) -> list[tuple]:
        from .local import measure_chunk

        return measure_chunk(items)


@contextlib.contextmanager
def connect(address: str | None = None, cpus: int | None = None):
    """Ray, connected to ``address`` (``"auto"``, ``ray://...``), or a local cluster on 127.0.0.1 with ``cpus``
    CPUs, shut down after the run."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # before `import ray`: loopback only
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray = require("ray", "the ray engine (pip install 'imagevars[ray]')")
    if ray.is_initialized():  # the caller's own session: use it, leave it running
        yield ray
        return
    if address:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    else:
        from .._env import threads

        ray.init(num_cpus=cpus or threads(), include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:
        yield ray
    finally:
        ray.shutdown()


def stream(
    items: Iterator[Item],
    ray,
    chunk: int,
    specs: str,
    init_rest: tuple,
    actors: int,
    cpus: float,
    gpus: float,
    in_flight: int,
    decoders: int = 0,
    preprocessors: list | None = None,
    total: int | None = None,
) -> Iterator[tuple[Item, tuple]]:
    """(item, (index, outputs, error)) in input order from a pool of ``actors`` actors; with ``decoders``, a pool
    of that many one-CPU decode actors prepares each chunk and hands it to a model actor (``preprocessors``:
    the tasks' own, from the driver, so decode actors never load a model). Given the number of items
    (``total``), chunks shrink toward the end."""
    remote = ray.remote(num_cpus=cpus, num_gpus=gpus, max_restarts=0)(_Measurer)
    decoder = ray.remote(num_cpus=1, max_restarts=0)(_Decoder)
    pool: list = []
    decode_pool: list = []
    turn = itertools.count()

    def start() -> (
        None
    ):  # also after an actor died: a fresh pool (Ray would otherwise restart a crashing actor again and again)
        for actor in pool + decode_pool:
            ray.kill(actor)
        pool[:] = [remote.remote(specs, init_rest, max(1, int(cpus)), gpus) for _ in range(actors)]
        decode_pool[:] = [decoder.remote(preprocessors, init_rest) for _ in range(decoders)]

    def submit(batch: list[Item]):
        k = next(turn)
        if not decode_pool:
            return pool[k % len(pool)].measure.remote(batch)
        return pool[k % len(pool)].call.remote(batch, decode_pool[k % len(decode_pool)].prepare.remote(batch))

    start()
    return in_order(
        items,
        submit,
        ray.get,
        chunk,
        in_flight,
        died=lambda exc: isinstance(exc, ray.exceptions.RayActorError),
        recover=start,
        total=total,
        workers=max(actors, decoders),
    )


def describe(ray, specs: str, cpus: float) -> list:
    """The run's tasks built in one Ray worker process (which then exits, its models with it) and described for
    the driver (:func:`imagevars.engines.cluster.describe`); a task that cannot be built raises its own error."""
    from .cluster import describe as on_worker

    remote = ray.remote(num_cpus=cpus, max_calls=1)(on_worker)
    try:
        return ray.get(remote.remote(specs, max(1, int(cpus))))
    except ray.exceptions.RayTaskError as exc:  # the task's own error (a bad argument), not Ray's wrapping of it
        raise (exc.cause if isinstance(getattr(exc, "cause", None), Exception) else exc) from None


def decode_actors(ray, asked: int | None, actors: int, cpus: float, gpus: float) -> int:
    """How many decode actors a run gets: as many as asked; with GPU actors and none asked, the cluster's
    CPUs the model actors leave (at least one); otherwise none (each actor decodes its own chunks).

    Example:
        >>> from types import SimpleNamespace
        >>> ray = SimpleNamespace(cluster_resources=lambda: {"CPU": 16.0, "GPU": 2.0})
        >>> decode_actors(ray, None, 2, 1, 1), decode_actors(ray, 3, 2, 1, 1), decode_actors(ray, None, 2, 1, 0)
        (14, 3, 0)
    """
    if asked is not None:
        return max(0, int(asked))
    if not gpus:
        return 0
    return max(1, int(ray.cluster_resources().get("CPU", 1) - actors * cpus))


class _BatchMeasurer:
    """Ray Data's callable class for :func:`measure`: tasks built once per actor, a batch of paths measured."""

    def __init__(self, specs: str, init_rest: tuple, threads: int, path_column: str, names: list[str]):
        self.specs, self.init_rest, self.threads, self.path_column, self.names = (
            specs,
            init_rest,
            threads,
            path_column,
            names,
        )

    def __call__(self, batch: dict) -> dict:
        from .cluster import measure_chunk

        paths = [str(p) for p in batch[self.path_column]]
        items = [Item(i, p) for i, p in enumerate(paths)]
        rows = measure_chunk(self.specs, self.init_rest, self.threads, items)
        out = dict(batch)
        out["error"] = [err for _, _, err in rows]
        for name in self.names:
            out[name] = [None if outputs is None else outputs.get(name) for _, outputs, _ in rows]
        return out


def measure(
    ds, tasks, path_column: str = "path", *, actors: int = 1, cpus: float = 1, gpus: float = 0, batch_size: int = 32
):
    """Append imagevars' measuring step to a Ray Data dataset of image paths: the tasks' columns and ``error``.

    A file that cannot be read gives its row an error message and empty task columns; the job goes
    on (Ray Data would stop at an exception, or silently drop a whole block with
    ``max_errored_blocks``). ``tasks`` are task objects (:func:`imagevars.tasks.get_task` builds them
    from names); each actor builds its own from their specs.

    Example:
        >>> import ray
        >>> from imagevars.engines.ray import measure
        >>> from imagevars.tasks import get_task
        >>> ds = ray.data.read_parquet("manifest.parquet")  # doctest: +SKIP
        >>> measure(ds, [get_task("clip-embed")], path_column="path").write_parquet("out/")  # doctest: +SKIP
    """
    import json

    built = list(tasks)
    named = [t for t in built if isinstance(t, str)]
    if named:
        raise TypeError(
            f"measure takes task objects, got the name(s) {named}: imagevars.tasks.get_task(name) builds them"
        )
    init_rest = (decode_sides(built), {}, None)
    names = [f.name for t in built for f in t.fields()]
    specs = json.dumps([t.spec() for t in built], default=str)
    return ds.map_batches(
        _BatchMeasurer,
        fn_constructor_args=(specs, init_rest, max(1, int(cpus)), path_column, names),
        batch_size=batch_size,
        batch_format="numpy",
        concurrency=actors,
        num_cpus=cpus,
        num_gpus=gpus,
    )


def version() -> dict[str, Any]:
    import ray

    return {"name": "ray", "ray": ray.__version__}
