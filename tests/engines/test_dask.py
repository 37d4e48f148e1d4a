"""The Dask engine: the same table as the local engine, resume across engines, and nothing off loopback."""

from __future__ import annotations

import pandas as pd
import pytest
import skimage.data as data
from PIL import Image

import imagevars
from imagevars.cli import main


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name in ("chelsea", "coffee", "astronaut", "rocket", "camera", "page"):
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.png")
    (folder / "empty.png").write_bytes(b"")
    (folder / "corrupt.jpg").write_bytes(b"not a jpeg")
    good = (folder / "chelsea.png").read_bytes()
    (folder / "truncated.png").write_bytes(good[: len(good) // 2])
    return folder


def test_the_dask_engine_gives_the_local_table_row_for_row(photos, tmp_path):
    local = imagevars.run(["quality", "detect"], photos, tmp_path / "local.parquet", progress=False)
    assert (
        main(
            [
                "run",
                "quality,detect",
                str(photos),
                "-o",
                str(tmp_path / "dask.parquet"),
                "--engine",
                "dask",
                "--workers",
                "2",
                "-q",
            ]
        )
        == 0
    )
    on_dask = imagevars.Results.read(tmp_path / "dask.parquet")
    pd.testing.assert_frame_equal(local.to_pandas(), on_dask.to_pandas())  # values, error rows and messages
    assert local.n_errors == 3 and on_dask.provenance["engine"]["name"] == "dask"
    local_engine = local.provenance["engine"]  # the bundled detector ran as a single-thread copy in each worker
    assert {k: local_engine[k] for k in ("name", "models_on", "models_in", "threads_per_worker")} == {
        "name": "local",
        "models_on": "cpu",
        "models_in": "workers",
        "threads_per_worker": 1,
    }
    assert {k: on_dask.provenance["engine"][k] for k in ("workers", "threads_per_worker", "models_on")} == {
        "workers": 2,
        "threads_per_worker": 1,
        "models_on": "cpu",
    }


def test_a_run_stopped_on_one_engine_resumes_on_the_other(photos, tmp_path):
    from imagevars.pipeline.runner import RunError
    from imagevars.tasks import get_task

    whole = imagevars.run(["quality"], photos, tmp_path / "whole.parquet", progress=False).to_pandas()
    out = tmp_path / "out.parquet"
    with pytest.raises(RunError):  # strict: stops at the first unreadable file; what was measured is kept
        imagevars.run(
            [get_task("quality")], photos, out, progress=False, strict=True, batch_size=2, chunk_rows=2, workers=0
        )
    resumed = imagevars.run(["quality"], photos, out, progress=False, engine="dask", engine_options={"workers": 1})
    assert resumed.provenance["counts"]["skipped"] > 0
    pd.testing.assert_frame_equal(resumed.to_pandas(), whole)


def test_a_local_cluster_listens_on_loopback_only_and_stops(photos):
    import psutil

    from imagevars.engines.dask import connect

    me = psutil.Process()
    before = {c.pid for c in me.children(recursive=True)}  # helpers earlier tests left (multiprocessing's tracker)
    with connect(workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        pids = {me.pid, *(c.pid for c in me.children(recursive=True))}
        listening = [c for c in psutil.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN and c.pid in pids]
        assert listening and all(c.laddr.ip in ("127.0.0.1", "::1") for c in listening), listening
    left = [
        c
        for c in me.children(recursive=True)
        if c.pid not in before and c.is_running() and c.status() != psutil.STATUS_ZOMBIE
    ]
    assert not left  # the workers and their nannies are gone


def test_tasks_are_rebuilt_from_their_specs():
    from imagevars.engines.specs import rebuild
    from imagevars.tasks import get_task

    task = get_task("classify", top=2, classes=["tabby", "tiger cat"])
    again = rebuild(task.spec())
    assert again.top == 2 and tuple(again.classes) == ("tabby", "tiger cat") and again.fields() == task.fields()


def test_videos_on_the_dask_engine_give_the_local_rows_frame_for_frame(photos, tmp_path):
    """Video segments travel to the workers one at a time, each sampled frame measured there: the table (one row per
    sampled frame, the video columns, a still image and a broken video among them) is the local engine's."""
    from videos import make_video  # tests/helpers

    folder = tmp_path / "media"
    folder.mkdir()
    make_video(folder / "clip.mp4", seconds=6.0, fps=10)
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video")
    (folder / "still.png").write_bytes((photos / "coffee.png").read_bytes())
    kw = dict(every="0.5s", segment_s=2.0, progress=False)
    local = imagevars.run(["quality"], folder, tmp_path / "local.parquet", **kw).to_pandas()
    on_dask = imagevars.run(
        ["quality"], folder, tmp_path / "dask.parquet", engine="dask", engine_options={"workers": 2}, **kw
    ).to_pandas()
    pd.testing.assert_frame_equal(local, on_dask)
    assert (local["source"].str.endswith("clip.mp4")).sum() == 12 and local["error"].notna().sum() == 1


def test_hub_model_tasks_run_on_the_dask_engine_as_locally_and_the_driver_loads_no_model(
    photos, tmp_path, monkeypatch, capsys
):
    """The ask task (a tiny random VLM folder, a codebook) and open-vocabulary detection (a tiny OWLv2 folder),
    named by spec, are built on the workers only (the driver's model classes are made to fail) and give the
    local table with the same provenance; a task the workers cannot build is the run's one-line error."""
    pytest.importorskip("transformers")
    from imagevars.models import open_vocab, vlm
    from imagevars.tasks import get_task, task_spec

    book = tmp_path / "codebook.yaml"
    book.write_text('questions:\n  cat: {ask: "Is there a cat?", answers: ["yes", "no"]}\n')
    args = [
        ("ask", {"codebook": str(book), "model": str(vlm.save_random_vlm(tmp_path / "vlm"))}),
        ("detect", {"model": str(open_vocab.save_random_owlv2(tmp_path / "owl")), "classes": "cat, cup"}),
    ]
    local = imagevars.run([get_task(n, **kw) for n, kw in args], photos, progress=False)

    def no_model_here(*a, **kw):
        raise AssertionError("the driver loaded a model")

    monkeypatch.setattr(vlm.VisionLanguageModel, "__init__", no_model_here)
    monkeypatch.setattr(open_vocab.OpenVocabDetector, "__init__", no_model_here)
    on_dask = imagevars.run(
        [task_spec(n, **kw) for n, kw in args], photos, progress=False, engine="dask", engine_options={"workers": 1}
    )
    pd.testing.assert_frame_equal(local.to_pandas(), on_dask.to_pandas())
    assert local.to_pandas()["ask_cat_yes"].notna().sum() == 6 and "detect_count_cup" in local.to_pandas()
    assert on_dask.provenance["tasks"] == local.provenance["tasks"]  # told by the worker that built them
    assert (
        main(
            [
                "run",
                "detect",
                str(photos),
                "-o",
                str(tmp_path / "bad.parquet"),
                "--engine",
                "dask",
                "--workers",
                "1",
                "--model",
                args[1][1]["model"],
                "--classes",
                "cat, cat",
                "-q",
            ]
        )
        == 2
    )
    assert "a class is named twice" in capsys.readouterr().err
