"""The local engine runs a small model as a single-thread copy in each worker process, next to its decoding,
and gives the very table the model gives in this process: values, error rows, videos."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage import data

import imagevars
from crashing import KILLER_WIDTH, CallCrashingTask, RefusingInWorkers
from imagevars.engines.local import WORKER_DIED
from imagevars.tasks.detect import DetectTask
from imagevars.tasks.quality import QualityTask


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.jpg", quality=92)
    (folder / "corrupt.jpg").write_bytes(b"not a jpeg")
    return folder


def test_the_bundled_detector_in_the_workers_gives_the_in_process_table(photos):
    in_workers = DetectTask()
    assert in_workers.per_worker is True and DetectTask(threads=2).per_worker is False  # pinned threads: here

    def broken(*args, **kwargs):
        raise RuntimeError("the model ran in the main process")

    in_workers.model.predict = broken  # the workers build their own copies from the task's spec
    a = imagevars.run([QualityTask(), in_workers], photos, workers=2, progress=False)
    here = DetectTask(threads=2)
    b = imagevars.run([QualityTask(), here], photos, workers=2, progress=False)
    # the main process's copy never loaded its weights: it only described the run
    assert not in_workers.model.session.loaded and here.model.session.loaded
    assert a.provenance["engine"]["models_in"] == "workers" and a.provenance["engine"]["threads_per_worker"] == 1
    assert b.provenance["engine"]["models_in"] == "this process"
    pd.testing.assert_frame_equal(a.to_pandas(), b.to_pandas())  # every value, the error row and its message
    df = a.to_pandas().set_index(a.to_pandas().source.str.rsplit("/", n=1).str[-1])
    assert df.loc["astronaut.jpg", "detect_top1_label"] == "person" and df.loc["coffee.jpg", "detect_count_cup"] >= 1
    assert df.error.notna().sum() == 1 and "corrupt.jpg" in df.loc["corrupt.jpg", "error"]


def test_a_task_that_refuses_the_worker_copies_keeps_the_models_here(photos):
    from crashing import RefusingTask

    assert RefusingTask.per_worker is False and QualityTask.per_worker is None
    r = imagevars.run([RefusingTask(), DetectTask()], photos, workers=2, progress=False)
    assert r.provenance["engine"]["models_in"] == "this process"
    q = imagevars.run([QualityTask()], photos, workers=2, progress=False)  # no model anywhere: as before
    assert q.provenance["engine"]["models_in"] == "this process"
    assert (
        imagevars.run([DetectTask()], photos, workers=0, progress=False).provenance["engine"]["models_in"]
        == "this process"
    )


def _folder(tmp_path, widths):
    for i, w in enumerate(widths):
        Image.new("RGB", (w, 16), (i * 20, 0, 0)).save(tmp_path / f"{i:02d}.png")
    return tmp_path


def test_a_model_call_that_kills_its_worker_costs_its_file_one_error_row(tmp_path):
    killers = {3, 9, 10}
    folder = _folder(tmp_path, [KILLER_WIDTH if i in killers else 20 + i for i in range(16)])
    r = imagevars.run([CallCrashingTask(), QualityTask()], folder, workers=2, batch_size=4, progress=False)
    t = r.to_pandas()
    assert r.provenance["engine"]["models_in"] == "workers" and len(t) == 16
    assert sorted(int(s[-6:-4]) for s in t.source[t.error.notna()]) == sorted(killers)
    assert all(WORKER_DIED in e for e in t.error.dropna())
    assert (t.callcrash_width.dropna() == [20 + int(s[-6:-4]) for s in t.source[t.error.isna()]]).all()


def test_a_model_call_that_raises_in_a_worker_is_that_images_error_row(tmp_path):
    folder = _folder(tmp_path, [RefusingInWorkers.REFUSED if i == 4 else 20 + i for i in range(7)])
    r = imagevars.run([RefusingInWorkers(), QualityTask()], folder, workers=2, batch_size=8, progress=False)
    df = r.to_pandas()
    assert r.provenance["engine"]["models_in"] == "workers"
    assert list(df.error.notna()) == [i == 4 for i in range(7)]
    assert "task refuse: ValueError: the processor rejects" in df.error[4]
    assert df.quality_brightness.notna().sum() == 6 and r.provenance["counts"] == {
        "measured": 6,
        "errors": 1,
        "skipped": 0,
    }


def test_video_frames_measured_in_the_workers_equal_the_in_process_ones(tmp_path):
    from videos import make_video

    make_video(tmp_path / "clip.mp4", seconds=3.0)
    kw = dict(every="0.5s", segment_s=1.0, workers=2, progress=False)
    a = imagevars.run([DetectTask()], tmp_path / "clip.mp4", **kw)
    b = imagevars.run([DetectTask(threads=2)], tmp_path / "clip.mp4", **kw)
    assert a.provenance["engine"]["models_in"] == "workers" and len(a) == 6
    pd.testing.assert_frame_equal(a.to_pandas(), b.to_pandas())
    wanted = np.arange(6) * 0.5  # each sample: the first frame (25 fps) at or after its time
    assert ((a.to_pandas().time_s >= wanted) & (a.to_pandas().time_s < wanted + 0.04)).all()


def test_with_a_gpu_named_the_models_stay_in_this_process(monkeypatch):
    """Forked workers must not inherit a GPU context: one copy holds the GPU in the main process."""
    from types import SimpleNamespace as T

    from imagevars.pipeline.engines import models_in_workers

    tasks = [T(per_worker=True)]
    assert models_in_workers(tasks, 2)
    monkeypatch.setenv("IMAGEVARS_DEVICE", "cuda")
    assert not models_in_workers(tasks, 2)


def test_without_memory_for_a_copy_per_worker_the_models_stay_in_this_process(monkeypatch):
    """A worker killed for memory would cost its files error rows: too little memory keeps one copy here."""
    from types import SimpleNamespace as T

    from imagevars.pipeline import engines

    tasks = [T(per_worker=True)]
    monkeypatch.setattr("imagevars._env.available_memory", lambda: 4 * engines.COPY_BYTES)
    assert engines.models_in_workers(tasks, 4) and not engines.models_in_workers(tasks, 5)
    monkeypatch.setattr("imagevars._env.available_memory", lambda: None)  # unknown: no guard
    assert engines.models_in_workers(tasks, 64)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/meminfo is Linux's")
def test_the_memory_available_is_read_from_the_kernel():
    from imagevars._env import available_memory

    free = available_memory()
    assert free is not None and 0 < free < 2**50  # Linux: /proc/meminfo
