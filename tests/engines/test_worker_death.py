"""A worker process that dies on a file costs that file one error row, never the run."""

from __future__ import annotations

import numpy as np
from PIL import Image

import imagevars
from crashing import KILLER_WIDTH, CrashingTask
from imagevars.engines.local import WORKER_DIED


def test_a_file_that_kills_its_worker_is_one_error_row(tmp_path):
    rng = np.random.default_rng(0)
    killers = {5, 17, 18}  # one alone, two in a row
    for i in range(40):
        w = KILLER_WIDTH if i in killers else 20 + i
        Image.fromarray(rng.integers(0, 256, (16, w, 3), dtype=np.uint8)).save(tmp_path / f"{i:02d}.png")
    out = tmp_path / "t.parquet"
    t = imagevars.run([CrashingTask(), "quality"], str(tmp_path), str(out), workers=2, batch_size=4).to_pandas()
    assert len(t) == 40
    assert list(t.source) == sorted(t.source)  # still in input order
    died = t[t.error.notna()]
    assert sorted(int(s[-6:-4]) for s in died.source) == sorted(killers)
    assert all(WORKER_DIED in e for e in died.error)
    ok = t[t.error.isna()]
    assert (ok.crash_width == [20 + int(s[-6:-4]) for s in ok.source]).all()
    alone = imagevars.run(
        ["quality"], sorted(str(p) for p in tmp_path.glob("*.png") if int(p.stem) not in killers), workers=0
    ).to_pandas()
    assert np.allclose(ok.quality_sharpness.to_numpy(), alone.quality_sharpness.to_numpy())  # the same values


def test_a_run_resumed_after_a_worker_death_does_not_redo_anything(tmp_path):
    for i in range(6):
        Image.new("RGB", (KILLER_WIDTH if i == 2 else 30, 16), (i * 40, 0, 0)).save(tmp_path / f"{i}.png")
    out = tmp_path / "t.parquet"
    first = imagevars.run([CrashingTask()], str(tmp_path), str(out), workers=2)
    assert first.n_errors == 1
    again = imagevars.run([CrashingTask()], str(tmp_path), str(out), workers=2)
    assert len(again) == 6 and again.n_errors == 1


def _folder_with_killers(folder, killers=(3, 7), n=12):
    for i in range(n):
        w = KILLER_WIDTH if i in killers else 20 + i
        Image.new("RGB", (w, 16), (i * 20, 0, 0)).save(folder / f"{i:02d}.png")
    return folder


def test_on_dask_a_file_that_kills_its_worker_is_one_error_row(tmp_path):
    folder = _folder_with_killers(tmp_path)
    t = imagevars.run(
        [CrashingTask()],
        str(folder),
        workers=2,
        batch_size=4,
        engine="dask",
        engine_options={"workers": 2},
        progress=False,
    ).to_pandas()
    assert len(t) == 12 and list(t.source) == sorted(t.source)
    assert sorted(int(s[-6:-4]) for s in t.source[t.error.notna()]) == [3, 7]
    assert all(WORKER_DIED in e for e in t.error.dropna())
    assert (t.crash_width.dropna() == [20 + int(s[-6:-4]) for s in t.source[t.error.isna()]]).all()


def test_a_task_that_fails_on_one_image_makes_it_one_error_row(tmp_path):
    """A model call that raises on one image (a processor that rejects it) costs that image, not the batch."""
    from crashing import RefusingTask

    for i in range(7):
        Image.new("RGB", (RefusingTask.REFUSED if i == 4 else 20 + i, 16), (i * 30, 0, 0)).save(tmp_path / f"{i}.png")
    for engine, options in (("local", {}), ("dask", {"workers": 1})):
        t = imagevars.run(
            [RefusingTask(), "quality"],
            str(tmp_path),
            workers=1,
            batch_size=8,
            engine=engine,
            engine_options=options,
            progress=False,
        )
        df = t.to_pandas()
        assert list(df.error.notna()) == [i == 4 for i in range(7)], engine
        assert "task refuse: ValueError: the processor rejects" in df.error[4]
        assert df.quality_brightness.notna().sum() == 6 and df.refuse_width.notna().sum() == 6
        assert t.provenance["counts"]["errors"] == 1 and t.provenance["counts"]["measured"] == 6
