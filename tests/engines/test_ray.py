"""The Ray engine: the same table as the local engine, every server on loopback, nothing left running."""

from __future__ import annotations

import pandas as pd
import pytest
import skimage.data as data
from PIL import Image

import imagevars
from imagevars.cli import main
from sockets import loopback  # tests/helpers


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name in ("chelsea", "coffee", "astronaut", "rocket", "camera"):
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.png")
    (folder / "empty.png").write_bytes(b"")
    (folder / "corrupt.jpg").write_bytes(b"not a jpeg")
    return folder


def test_the_ray_engine_and_ray_data_measure_on_a_loopback_cluster_that_stops(photos, tmp_path, monkeypatch):
    """One Ray cluster for the whole test (a second start in one process can time out): the run through
    the command line, a user's Ray Data pipeline, the sockets it listens on, and nothing left after."""
    import os

    import psutil

    from imagevars.engines.ray import connect, measure
    from imagevars.tasks import get_task

    monkeypatch.setenv("HOME", str(tmp_path))  # Ray writes its session token under ~/.ray
    helpers = os.path.join(os.path.dirname(os.path.dirname(__file__)), "helpers")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([helpers, os.environ.get("PYTHONPATH", "")]))  # step 4's task
    paths = sorted(str(p) for p in photos.iterdir())
    local = imagevars.run(["quality", "detect"], photos, progress=False)
    me = psutil.Process()
    before = {c.pid for c in me.children(recursive=True)}
    from imagevars.tasks.detect import DetectTask

    def no_model_here(*a, **kw):
        raise AssertionError("the driver built detect's model")

    with connect(cpus=2) as ray:
        monkeypatch.setattr(DetectTask, "__init__", no_model_here)  # the runs by name below build it on Ray only
        # 1. the run on Ray actors: the local engine's table
        assert (
            main(
                [
                    "run",
                    "quality,detect",
                    str(photos),
                    "-o",
                    str(tmp_path / "ray.parquet"),
                    "--engine",
                    "ray",
                    "--actors",
                    "2",
                    "-q",
                ]
            )
            == 0
        )
        on_ray = imagevars.Results.read(tmp_path / "ray.parquet")
        pd.testing.assert_frame_equal(local.to_pandas(), on_ray.to_pandas())
        assert on_ray.provenance["engine"]["name"] == "ray" and on_ray.n_errors == 2
        # 2. inside a user's Ray Data pipeline: their columns kept, one error row per unreadable file
        ds = ray.data.from_items([{"path": p, "brand": i % 3} for i, p in enumerate(paths)])
        got = pd.DataFrame(measure(ds, [get_task("quality")], path_column="path", batch_size=4).take_all())
        got = got.set_index("path").loc[paths]
        want = imagevars.run(["quality"], paths, progress=False).to_pandas().set_index("source").loc[paths]
        assert list(got["brand"]) == [i % 3 for i in range(len(paths))]
        assert (got["error"].notna() == want["error"].notna()).all()
        good = want.index[want["error"].isna()]
        assert (got.loc[good, "quality_brightness"].astype(float) == want.loc[good, "quality_brightness"]).all()
        # 4. an actor that dies on a file (a crashing decoder): that file is one error row, the run goes on
        from crashing import KILLER_WIDTH, CrashingTask
        from imagevars.engines.local import WORKER_DIED

        killers = tmp_path / "killers"
        killers.mkdir()
        for i in range(8):
            Image.new("RGB", (KILLER_WIDTH if i == 5 else 20 + i, 16)).save(killers / f"{i}.png")
        died = imagevars.run(
            [CrashingTask()], killers, batch_size=2, engine="ray", engine_options={"actors": 2}, progress=False
        ).to_pandas()
        assert len(died) == 8 and list(died.error.notna()) == [i == 5 for i in range(8)]
        assert WORKER_DIED in died.error[5]
        # 5. decode actors preparing chunks for a model actor (as with GPU actors): the same tables, and a file
        # that kills its decode actor is one error row
        assert (
            main(
                [
                    "run",
                    "quality,detect",
                    str(photos),
                    "-o",
                    str(tmp_path / "split.parquet"),
                    "--engine",
                    "ray",
                    "--actors",
                    "1",
                    "--cpus-per-actor",
                    "0.5",
                    "--decode-actors",
                    "1",
                    "-q",
                ]
            )
            == 0
        )
        split = imagevars.Results.read(tmp_path / "split.parquet")
        pd.testing.assert_frame_equal(local.to_pandas(), split.to_pandas())
        assert split.provenance["engine"]["decode_actors"] == 1 and split.provenance["engine"]["models_on"] == "cpu"
        died = imagevars.run(
            [CrashingTask()],
            killers,
            batch_size=2,
            engine="ray",
            progress=False,
            engine_options={"actors": 1, "cpus": 0.5, "decoders": 1},
        ).to_pandas()
        assert list(died.error.notna()) == [i == 5 for i in range(8)] and WORKER_DIED in died.error[5]
        # 3. every server it started listens on loopback
        pids = {me.pid, *(c.pid for c in me.children(recursive=True))}
        seen = [c for c in psutil.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN and c.pid in pids]
        assert seen and all(loopback(c.laddr.ip) for c in seen), [c.laddr for c in seen if not loopback(c.laddr.ip)]
    left = [
        c
        for c in me.children(recursive=True)
        if c.pid not in before and c.is_running() and c.status() != psutil.STATUS_ZOMBIE
    ]
    assert not left, [c.name() for c in left]
