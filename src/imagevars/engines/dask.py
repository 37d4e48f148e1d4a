"""The Dask engine: the same run on a Dask cluster (an existing one, or a local one started for the run).

The runner stays the driver (inputs, schema, sink, resume, provenance); only the work moves.
Chunks of inputs go to the workers in input order, at most a few per worker in flight; each
worker builds the run's tasks once from their specs (:meth:`imagevars.tasks.base.Task.spec`: a
loaded model is never shipped), then reads, decodes, preprocesses and runs every task on its
chunk, and sends back each input's output columns, or its error. Results are drained in input
order into the same sink, so the table is the local engine's, row for row, and a run started on
one engine resumes on another (the engine is recorded in the provenance, not in the settings a
resume compares).

Each worker's models use ``threads`` threads (``IMAGEVARS_THREADS`` on the worker), whatever
the node's core count. A video goes to the workers as segments (``segment_s`` of footage each), one
segment per submission, each sampled frame measured on the worker.

Example:
    >>> import imagevars
    >>> imagevars.run(["quality"], "PHOTOS/", "vars.parquet", engine="dask",
    ...               engine_options={"address": "tcp://head:8786"})  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from .._extras import require
from ..io.sources import Item
from .cluster import in_order, measure_chunk


@contextlib.contextmanager
def connect(address: str | None = None, workers: int | None = None):
    """A Dask client: to the scheduler at ``address`` (``tcp://host:port``, or a scheduler file ``*.json``), or
    to a local cluster started on 127.0.0.1 for the run (``workers`` processes of one thread each) and
    stopped after it."""
    require("distributed", "the dask engine (pip install 'imagevars[dask]')")
    from distributed import Client, LocalCluster

    if address and address.endswith(".json") and os.path.isfile(address):  # a scheduler file (the Slurm script's)
        with Client(scheduler_file=address) as client:
            yield client
        return
    if address:
        with Client(address) as client:
            yield client
        return
    import dask

    from .._env import threads

    # a chunk whose worker dies is not retried on the next worker (Dask's default kills three more): the engine
    # sends its files again one at a time and records the one that kills a worker (engines.cluster.in_order)
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(
            n_workers=workers or threads(),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def stream(
    items: Iterator[Item],
    client,
    chunk: int,
    specs: str,
    init_rest: tuple,
    threads: int,
    in_flight: int,
    total: int | None = None,
    workers: int = 1,
) -> Iterator[tuple[Item, tuple]]:
    """(item, (index, outputs, error)) in input order, at most ``in_flight`` chunks submitted ahead; given the
    number of items (``total``) and ``workers``, chunks shrink toward the end."""
    from distributed import KilledWorker

    return in_order(
        items,
        lambda batch: client.submit(measure_chunk, specs, init_rest, threads, batch, pure=False),
        lambda future: future.result(),
        chunk,
        in_flight,
        died=lambda exc: isinstance(exc, KilledWorker),
        cancel=lambda future: future.cancel(),
        total=total,
        workers=workers,
    )


def describe(client, specs: str, threads: int) -> list:
    """The run's tasks built on one worker (which keeps them for its chunks) and described for the driver
    (:func:`imagevars.engines.cluster.describe`); a task that cannot be built raises its own error here."""
    from .cluster import describe as on_worker

    return client.submit(on_worker, specs, threads, pure=False).result()


def layout(client) -> dict[str, Any]:
    """The cluster's workers now, and where their models run (each worker's ``IMAGEVARS_DEVICE``), for provenance."""
    from ..models.device import torch_device_name

    devices = client.run(torch_device_name)
    return {"workers": len(devices), "models_on": ",".join(sorted(set(devices.values()))) or "cpu"}


def version() -> dict[str, Any]:
    import dask
    import distributed

    return {"name": "dask", "dask": dask.__version__, "distributed": distributed.__version__}
