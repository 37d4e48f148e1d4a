"""The local engine under each start method: fork, forkserver and spawn give the same table, and the parent's
settings, models and thread limits reach the workers; a script without a main guard still gets a real table."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import imagevars
from imagevars.pipeline.runner import run
from imagevars.tasks import get_task

HELPERS = Path(__file__).parents[1] / "helpers"
METHODS = [m for m in ("fork", "forkserver", "spawn") if m in multiprocessing.get_all_start_methods()]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    import skimage.data as data

    folder = tmp_path_factory.mktemp("photos")
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.jpg", quality=90)
    for w in range(20, 28):  # small ones, so each worker gets several chunks
        Image.new("RGB", (w, 16), (w * 9, 40, 200)).save(folder / f"small_{w}.png")
    return folder


def test_the_default_is_chosen_on_purpose(monkeypatch):
    from imagevars._env import start_method

    monkeypatch.delenv("IMAGEVARS_START_METHOD", raising=False)
    assert start_method() == ("forkserver" if sys.platform.startswith("linux") else "spawn")
    monkeypatch.setenv("IMAGEVARS_START_METHOD", "nonsense")
    with pytest.raises(ValueError, match="IMAGEVARS_START_METHOD='nonsense'"):
        start_method()


SETTINGS_RUN = """
import os, sys
from imagevars.pipeline.runner import run
from probe import ProbeTask, SETTING

if __name__ == "__main__":
    os.environ[SETTING] = "first"
    run([ProbeTask()], sys.argv[1], workers=2, progress=False)  # a fork server, if any, starts with "first"
    os.environ[SETTING] = "changed after the first run"
    run([ProbeTask()], sys.argv[1], sys.argv[2], workers=2, progress=False)
    print(os.getpid())
"""


def _in_a_fresh_process(code: str, method: str, *args: str) -> str:
    """Run ``code`` in a new interpreter with the start method set: forking this test process, whose earlier
    tests left threads running (Ray's, ONNX Runtime's), can deadlock, which is why fork is not the default."""
    env = {
        **os.environ,
        "IMAGEVARS_START_METHOD": method,
        "PYTHONPATH": os.pathsep.join([str(HELPERS), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("method", METHODS)
def test_two_workers_see_the_parents_settings_and_one_thread_each(method, photos, tmp_path):
    out = tmp_path / "probe.parquet"
    parent = int(_in_a_fresh_process(SETTINGS_RUN, method, str(photos), str(out)).split()[-1])
    results = imagevars.Results.read(out)
    df = results.to_pandas()
    assert df["error"].isna().all() and len(df) == 12
    assert set(df["probe_setting"]) == {"changed after the first run"}
    assert set(df["probe_method"]) == {method}
    assert 1 <= df["probe_pid"].nunique() <= 2 and parent not in set(df["probe_pid"])  # worker processes
    assert set(df["probe_omp"]) == {"1"} and set(df["probe_cv2"]) == {1}
    assert df["probe_torch"].isna().all() or set(df["probe_torch"].dropna()) == {1}
    assert results.provenance["engine"]["start_method"] == method


@pytest.mark.parametrize("method", METHODS)
def test_models_built_in_the_workers_give_the_in_process_table(method, photos, tmp_path):
    """detect and classify build their ONNX models in each worker (from the tasks' specs). The 2-worker run
    starts in a fresh process: forking a process whose own ONNX Runtime threads already ran can deadlock
    (the reason fork is not the default), and this test's process has run them."""
    pytest.importorskip("onnxruntime")
    out = tmp_path / "workers.parquet"
    code = (
        f"import imagevars\nif __name__ == '__main__':\n    imagevars.run(['quality', 'detect', 'classify'], "
        f"{str(photos)!r}, {str(out)!r}, workers=2, progress=False)\n"
    )
    _in_a_fresh_process(code, method)
    results = imagevars.Results.read(out)
    assert results.provenance["engine"]["models_in"] == "workers"
    assert results.provenance["engine"]["start_method"] == method
    df = results.to_pandas()
    inline = run(
        [get_task("quality"), get_task("detect"), get_task("classify")], str(photos), workers=0, progress=False
    ).to_pandas()
    assert df["error"].isna().all() and len(df) == 12
    for column in ("quality_brightness", "detect_n_objects", "detect_person_max", "classify_top1_score"):
        np.testing.assert_allclose(df[column].to_numpy(float), inline[column].to_numpy(float), rtol=1e-5)
    assert df["classify_top1_label"].tolist() == inline["classify_top1_label"].tolist()


@pytest.mark.parametrize("method", [m for m in METHODS if m != "fork"])
def test_a_script_without_a_main_guard_gets_its_table_not_dead_workers(method, photos, tmp_path):
    """Spawned and fork-server workers import the main script again; an unguarded one would run again in
    each and every row would be 'the worker died'. Its workers are forked instead, and provenance says so."""
    script = tmp_path / "study.py"
    script.write_text(
        textwrap.dedent(f"""
        import imagevars
        results = imagevars.run(["quality"], {str(photos)!r}, workers=2, progress=False)
        df = results.to_pandas()
        print(int(df["error"].isna().sum()), results.provenance["engine"]["start_method"])
    """)
    )
    env = {**os.environ, "IMAGEVARS_START_METHOD": method}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["12", "fork"]


def test_the_guard_is_found_where_the_run_starts(tmp_path):
    script = tmp_path / "guarded.py"
    script.write_text(
        textwrap.dedent("""
        from imagevars.engines.start import unguarded_script

        print("top:", unguarded_script() is not None)
        if __name__ == "__main__":
            print("guarded:", unguarded_script() is not None)
    """)
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["top:", "True", "guarded:", "False"], out.stderr
    assert imagevars.__name__ == "imagevars"


_NOTEBOOK_TASK = """
import sys, imagevars
from imagevars.tasks import Task

def width(decoded):
    return decoded.width

class Width(Task):  # defined where a fresh interpreter cannot import it, as in a notebook's cell
    name = "w"
    def preprocessor(self):
        return width
    def fields(self):
        import pyarrow as pa
        return [pa.field("w_px", pa.int64())]
    def __call__(self, batch):
        return {"w_px": batch}

results = imagevars.run([Width(), "quality"], sys.argv[1], workers=2, progress=False)
df = results.to_pandas()
print(int(df["error"].isna().sum()), sorted(df["w_px"].dropna().astype(int))[0], results.provenance["engine"]["start_method"])
"""


@pytest.mark.parametrize("method", [m for m in METHODS if m != "fork"])
def test_a_task_defined_in_a_notebook_cell_runs_in_forked_workers(method, photos):
    """`python -c` stands in for a notebook: its tasks live in a __main__ with no file, which spawned and
    fork-server workers cannot import; the run forks its workers instead of giving error rows."""
    env = {**os.environ, "IMAGEVARS_START_METHOD": method}
    out = subprocess.run(
        [sys.executable, "-c", _NOTEBOOK_TASK, str(photos)], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["12", "20", "fork"]


def test_what_a_fresh_worker_can_import(tmp_path, monkeypatch):
    from imagevars.engines.start import chosen_start_method, defined_in, importable

    assert importable("imagevars.engines.local") and importable("json") and not importable("no_such_module_here")
    outside = tmp_path / "elsewhere.py"
    outside.write_text("def f(decoded):\n    return 1\n")
    import importlib.util

    spec = importlib.util.spec_from_file_location("elsewhere", outside)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "elsewhere", module)
    assert defined_in(([module.f], None)) == {"elsewhere"} and not importable("elsewhere")
    monkeypatch.setenv("IMAGEVARS_START_METHOD", "spawn")
    assert chosen_start_method([json.dumps]) == "spawn"
    assert chosen_start_method([module.f]) == ("fork" if "fork" in METHODS else None)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert importable("elsewhere") and chosen_start_method([module.f]) == "spawn"
