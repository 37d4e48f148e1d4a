"""Which engine does the work of a run, as the runner (:mod:`imagevars.pipeline.runner`) uses it: the local
engine's worker processes, or a Dask or Ray cluster (connected or started here), whose workers build the
tasks from their specs, describe them to the driver when the driver has not built them, and measure
whole chunks."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from ..engines.local import decode_sides, stream
from ..engines.start import chosen_start_method


def task_specs(tasks: Sequence[Any]) -> str:
    """The tasks' specs as the text a cluster's workers receive (and key the tasks they built by: describing
    the tasks and measuring the chunks must send the same text, so that each worker builds them once)."""
    import json

    return json.dumps([t.spec() for t in tasks], default=str)


COPY_BYTES = 512 * 2**20  # what a worker with its own copies may take: 279 MB at peak on a 720p video's detect


def models_in_workers(tasks: Sequence[Any], workers: int) -> bool:
    """Whether the local engine runs the tasks' calls in its worker processes, each with its own single-thread
    copy of the models next to its decoding, rather than in this process beside the decoders: when there are
    workers, some task asks for it (``per_worker`` True: a small ONNX model), none refuses it, the models
    run on the CPU (with ``IMAGEVARS_DEVICE`` naming a GPU, one copy holds it here: forked workers must not
    inherit a GPU context), and the memory available (a cgroup's limit included) holds
    :data:`COPY_BYTES` per worker: a worker killed for memory would cost its files error rows.

    On 2 cores, ``detect`` on real-size JPEGs ran at 29.4 img/s this way against 22.7 with one
    two-thread copy here (``bench/detect_throughput.py``): two threads of one model and a decoder
    sharing two cores wait on each other.

    Example:
        >>> from types import SimpleNamespace as T
        >>> models_in_workers([T(per_worker=True), T(per_worker=None)], 2), models_in_workers([T(per_worker=None)], 2)
        (True, False)
    """
    from .._env import available_memory
    from ..models.device import torch_device_name

    wants = [getattr(t, "per_worker", False) for t in tasks]
    if workers == 0 or True not in wants or False in wants or torch_device_name() != "cpu":
        return False
    free = available_memory()
    return free is None or free >= workers * COPY_BYTES


def _actors(options: dict[str, Any], workers: int) -> int:
    return int(options.get("actors") or max(1, workers))


def _started(method: str | None) -> dict[str, str]:
    return {"start_method": method} if method else {}


def engine_stream(plan, todo, n_todo: int, workers: int, batch_size: int, fetch_options, cluster):
    """The engine's stream of (item, (index, features or outputs, error)) in input order."""
    if cluster is None:
        init_args = ([t.preprocessor() for t in plan.tasks], decode_sides(plan.tasks), fetch_options, plan.every)
        chunk = max(1, min(16, batch_size))
        if not models_in_workers(plan.tasks, workers):
            method = chosen_start_method(init_args) if workers else None
            plan.layout = {"models_in": "this process", "workers": workers, **_started(method)}
            return stream(todo, workers, chunk, init_args, total=n_todo, start_method=method)
        from functools import partial

        from .._env import threads
        from ..engines.cluster import measure_chunk

        plan.computed, each = True, max(1, threads() // workers)
        measure = partial(measure_chunk, task_specs(plan.tasks), None, each)  # set up by the pool
        method = chosen_start_method(init_args, measure)
        plan.layout = {"models_in": "workers", "workers": workers, "threads_per_worker": each, **_started(method)}
        return stream(todo, workers, chunk, init_args, total=n_todo, measure=measure, start_method=method)
    plan.computed = True
    specs = task_specs(plan.tasks)
    init_rest = (decode_sides(plan.tasks), fetch_options, plan.every)
    if cluster["engine"] == "ray":
        from ..engines import ray as ray_engine

        o = cluster["options"]
        actors, cpus, gpus = _actors(o, workers), float(o.get("cpus", 1)), float(o.get("gpus", 0))
        decoders = ray_engine.decode_actors(cluster["client"], o.get("decoders"), actors, cpus, gpus)
        plan.layout = {
            "actors": actors,
            "cpus_per_actor": cpus,
            "gpus_per_actor": gpus,
            "decode_actors": decoders,
            "models_on": "cuda" if gpus else "cpu",
        }
        return ray_engine.stream(
            todo,
            cluster["client"],
            batch_size,
            specs,
            init_rest,
            actors,
            cpus,
            gpus,
            in_flight=2 * max(actors, decoders),
            decoders=decoders,
            preprocessors=[t.preprocessor() for t in plan.tasks],
            total=n_todo,
        )
    from ..engines import dask as dask_engine

    threads_each = int(cluster["options"].get("threads") or 1)
    plan.layout = {"threads_per_worker": threads_each, **dask_engine.layout(cluster["client"])}
    on_cluster = max(1, plan.layout["workers"])  # a connected cluster's own workers, not this machine's cores
    return dask_engine.stream(
        todo,
        cluster["client"],
        batch_size,
        specs,
        init_rest,
        threads_each,
        in_flight=2 * on_cluster,
        total=n_todo,
        workers=on_cluster,
    )


def connect(engine: str, options: dict[str, Any], workers: int):
    """The cluster's client for the run (started here when no address is given), or None for the local engine.

    ``options`` for ``"dask"``: ``address`` (a scheduler or scheduler file; default a local cluster on
    127.0.0.1 with ``workers`` processes), ``threads`` per worker for the models (default 1). For
    ``"ray"``: ``address`` (``"auto"``; default a local cluster on 127.0.0.1), ``actors`` (default
    ``workers``), ``cpus`` and ``gpus`` per actor (default 1 and 0), and ``decoders``: one-CPU actors
    that read, decode and preprocess for the others, which then only run the models (default: none,
    or with ``gpus`` the CPUs the model actors leave). See :mod:`imagevars.engines.dask` and
    :mod:`imagevars.engines.ray`.

    Example:
        >>> with connect("local", {}, 2) as client:
        ...     client is None
        True
        >>> connect("spark", {}, 2)
        Traceback (most recent call last):
        ValueError: engine 'spark': use 'local', 'dask' or 'ray'
    """
    if engine not in ("local", "dask", "ray"):
        raise ValueError(f"engine {engine!r}: use 'local', 'dask' or 'ray'")
    if engine == "dask":
        from ..engines import dask as dask_engine

        return dask_engine.connect(options.get("address"), options.get("workers", workers))
    if engine == "ray":
        from ..engines import ray as ray_engine

        return ray_engine.connect(
            options.get("address"),
            options.get("cluster_cpus")
            or max(_actors(options, workers) * float(options.get("cpus", 1)) + int(options.get("decoders") or 0), 1),
        )
    return contextlib.nullcontext(None)


def resolve_tasks(tasks: Sequence[Any], engine: str, client, options: dict[str, Any]) -> list:
    """The run's task objects: specs (:class:`imagevars.engines.specs.TaskSpec`) built here for the local engine,
    or built on one of the cluster's workers and described to this driver, which so loads no model."""
    from ..engines.specs import TaskSpec

    tasks = list(tasks)
    if not any(isinstance(t, TaskSpec) for t in tasks):
        return tasks
    if client is None:
        return [t.build() if isinstance(t, TaskSpec) else t for t in tasks]
    specs = task_specs(tasks)
    if engine == "ray":
        from ..engines import ray as ray_engine

        described = ray_engine.describe(client, specs, float(options.get("cpus", 1)))
    else:
        from ..engines import dask as dask_engine

        described = dask_engine.describe(client, specs, int(options.get("threads") or 1))
    return [d if isinstance(t, TaskSpec) else t for t, d in zip(tasks, described)]


def engine_record(engine: str, layout: dict[str, Any]) -> dict[str, Any]:
    """The provenance's ``engine``: its name and versions, and where the models ran (``layout``, as
    :func:`engine_stream` chose it)."""
    if engine == "local":
        from ..models.device import torch_device_name

        return {"name": "local", "models_on": torch_device_name(), **layout}
    if engine == "ray":
        from ..engines import ray as cluster_engine
    else:
        from ..engines import dask as cluster_engine
    return {**cluster_engine.version(), **layout}
