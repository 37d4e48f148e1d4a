"""imagevars slurm: a readable sbatch script whose run is checked before it is written, and --submit."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from imagevars.cli import build_parser, main


def test_the_script_is_valid_bash_with_the_resources_asked_and_the_run_pointed_at_the_cluster(tmp_path, capsys):
    job = tmp_path / "job.sbatch"
    assert main(["slurm", "dask", "--nodes", "4", "--cpus", "32", "--gpus", "1", "--time", "2:00:00",
                 "--partition", "gpu", "-o", str(job), "--", "run", "detect", "PHOTOS/", "-o", "objects.parquet"]) == 0
    text = job.read_text()
    assert subprocess.run(["bash", "-n", str(job)]).returncode == 0
    for line in ("#SBATCH --nodes=4", "#SBATCH --cpus-per-task=32", "#SBATCH --gpus-per-node=1",
                 "#SBATCH --time=2:00:00", "#SBATCH --partition=gpu", "--nworkers 32 --nthreads 1"):
        assert line in text, line
    run_line = next(line for line in text.splitlines() if line.startswith("imagevars run"))
    args = build_parser().parse_args(run_line.split()[1:-1] + ["scheduler.json"])
    assert args.engine == "dask" and args.output == "objects.parquet" and args.tasks == "detect"
    assert "sbatch" in capsys.readouterr().out


@pytest.mark.parametrize("command, says", [
    (["run", "detect", "PHOTOS/"], "the run needs -o"),
    (["run", "detect", "PHOTOS/", "-o", "o.parquet", "--engine", "dask"], "leave --engine and --address out"),
    (["train", "mnist"], "put the run after --"),
])
def test_a_run_the_job_cannot_do_is_refused_before_a_script_is_written(tmp_path, capsys, command, says):
    assert main(["slurm", "dask", "--cpus", "4", "-o", str(tmp_path / "j.sbatch"), "--", *command]) == 2
    assert says in capsys.readouterr().err and not (tmp_path / "j.sbatch").exists()


def test_submit_hands_the_script_to_sbatch(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "bin" / "sbatch"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/submitted\necho "Submitted batch job 42"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    job = tmp_path / "j.sbatch"
    assert main(["slurm", "dask", "--cpus", "4", "-o", str(job), "--submit", "--", "run", "quality", "P/", "-o",
                 "v.parquet"]) == 0
    assert (tmp_path / "submitted").read_text().strip() == str(job)
    assert "Submitted batch job 42" in capsys.readouterr().out


def test_the_dask_engine_finds_its_scheduler_through_a_scheduler_file(tmp_path):
    import skimage.data as data
    from PIL import Image

    import imagevars
    from imagevars.engines.dask import connect

    Image.fromarray(data.coffee()).save(tmp_path / "coffee.png")
    with connect(workers=1) as client:
        client.write_scheduler_file(str(tmp_path / "scheduler.json"))
        res = imagevars.run(["quality"], tmp_path / "coffee.png", progress=False, engine="dask",
                            engine_options={"address": str(tmp_path / "scheduler.json")})
    assert res.n_errors == 0 and res.provenance["engine"]["name"] == "dask"
