"""imagevars slurm: a readable sbatch script whose run is checked before it is written, and --submit."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imagevars.cli import build_parser, main
from sockets import loopback  # tests/helpers


def test_the_script_is_valid_bash_with_the_resources_asked_and_the_run_pointed_at_the_cluster(tmp_path, capsys):
    job = tmp_path / "job.sbatch"
    assert (
        main(
            [
                "slurm",
                "dask",
                "--nodes",
                "4",
                "--cpus",
                "32",
                "--gpus",
                "1",
                "--time",
                "2:00:00",
                "--partition",
                "gpu",
                "-o",
                str(job),
                "--",
                "run",
                "detect",
                "PHOTOS/",
                "-o",
                "objects.parquet",
            ]
        )
        == 0
    )
    text = job.read_text()
    assert subprocess.run(["bash", "-n", str(job)]).returncode == 0
    for line in (
        "#SBATCH --nodes=4",
        "#SBATCH --cpus-per-task=32",
        "#SBATCH --gpus-per-node=1",
        "#SBATCH --time=2:00:00",
        "#SBATCH --partition=gpu",
        "--nworkers 32 --nthreads 1",
    ):
        assert line in text, line
    run_line = next(line for line in text.splitlines() if line.startswith("imagevars run"))
    args = build_parser().parse_args(run_line.split()[1:-1] + ["scheduler.json"])
    assert args.engine == "dask" and args.output == "objects.parquet" and args.tasks == "detect"
    assert "sbatch" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command, says",
    [
        (["run", "detect", "PHOTOS/"], "the run needs -o"),
        (["run", "detect", "PHOTOS/", "-o", "o.parquet", "--engine", "dask"], "leave --engine and --address out"),
        (["train", "mnist"], "put the run after --"),
    ],
)
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
    assert (
        main(
            [
                "slurm",
                "dask",
                "--cpus",
                "4",
                "-o",
                str(job),
                "--submit",
                "--",
                "run",
                "quality",
                "P/",
                "-o",
                "v.parquet",
            ]
        )
        == 0
    )
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
        res = imagevars.run(
            ["quality"],
            tmp_path / "coffee.png",
            progress=False,
            engine="dask",
            engine_options={"address": str(tmp_path / "scheduler.json")},
        )
    assert res.n_errors == 0 and res.provenance["engine"]["name"] == "dask"


def test_the_ray_script_sizes_its_actors_and_starts_a_head_and_workers(tmp_path):
    job = tmp_path / "ray.sbatch"
    assert (
        main(
            [
                "slurm",
                "ray",
                "--nodes",
                "3",
                "--cpus",
                "8",
                "--gpus",
                "2",
                "--interface",
                "ib0",
                "-o",
                str(job),
                "--",
                "run",
                "clip",
                "PHOTOS/",
                "-o",
                "clip.parquet",
                "--gpus-per-actor",
                "1",
            ]
        )
        == 0
    )
    text = job.read_text()
    assert subprocess.run(["bash", "-n", str(job)]).returncode == 0
    for line in (
        "#SBATCH --nodes=3",
        "#SBATCH --gpus-per-node=2",
        "ray start --head --block",
        "--num-gpus=2",
        "ip -4 -o addr show dev ib0",
        "ray stop --force",
    ):
        assert line in text, line
    run_line = next(line for line in text.splitlines() if line.startswith("imagevars run"))
    assert run_line.endswith("--actors $((SLURM_NNODES * 2 / 1))")  # one actor per GPU, not per CPU
    with pytest.raises(ValueError, match="--gpus"):
        from imagevars.cli.slurm import script

        script(
            build_parser().parse_args(["slurm", "ray", "--cpus", "8"]),
            ["run", "clip", "P/", "-o", "c.parquet", "--gpus-per-actor", "1"],
        )


@pytest.mark.parametrize("engine", ["dask", "ray"])
def test_a_submitted_job_runs_on_a_one_node_slurm_and_gives_the_local_table(engine, tmp_path):
    """End to end: a real one-node Slurm (munged, slurmctld, slurmd on 127.0.0.1) runs the written script; the
    cluster it starts listens on loopback only (--interface lo), the table equals the local engine's, and
    nothing of the job is left running."""
    import pandas as pd
    import psutil
    import skimage.data as data
    from PIL import Image

    import imagevars
    from slurm import one_node_slurm, wait_for_jobs  # tests/helpers

    pytest.importorskip("distributed" if engine == "dask" else "ray")
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("astronaut", "coffee", "chelsea"):
        Image.fromarray(getattr(data, name)()).save(photos / f"{name}.png")
    (photos / "broken.jpg").write_bytes(b"not a jpeg")
    before = {p.pid for p in psutil.process_iter()}
    with one_node_slurm(tmp_path / "slurm") as env:
        # the job gets this environment (sbatch exports it): none of what an earlier Ray session in this process
        # left behind (ray.init sets RAY_AUTH_MODE=token, which the job's new cluster would then demand)
        env = {k: v for k, v in env.items() if not k.startswith("RAY_") and k != "PYTHONBREAKPOINT"}
        env = {
            **env,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
            "HOME": str(tmp_path),
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
            "RAY_USAGE_STATS_ENABLED": "0",
        }
        out = tmp_path / "vars.parquet"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "imagevars.cli",
                "slurm",
                engine,
                "--cpus",
                "2",
                "--interface",
                "lo",
                "--time",
                "0:10:00",
                "-o",
                str(tmp_path / "job.sbatch"),
                "--submit",
                "--",
                "run",
                "quality",
                str(photos),
                "-o",
                str(out),
            ],
            env=env,
            check=True,
            capture_output=True,
            cwd=tmp_path,
        )
        listening = set()
        deadline = time.time() + 120
        while time.time() < deadline and not out.exists():
            for c in psutil.net_connections("inet"):
                if c.status == psutil.CONN_LISTEN and c.pid and c.pid not in before and _belongs(c.pid, tmp_path):
                    listening.add((c.laddr.ip, c.laddr.port, _name(c.pid)))
            time.sleep(0.2)
        wait_for_jobs(env, timeout=60)
        log = next(tmp_path.glob("imagevars-*.log")).read_text()
    assert out.exists(), log[-3000:]
    local = imagevars.run(["quality"], photos, progress=False).to_pandas()
    pd.testing.assert_frame_equal(imagevars.Results.read(out).to_pandas()[local.columns], local)
    assert imagevars.Results.read(out).provenance["engine"]["name"] == engine
    assert listening and all(loopback(ip) for ip, _, _ in listening), listening
    deadline = time.time() + 20  # what the job and the cluster started exits (Slurm's step daemons within seconds)
    while time.time() < deadline and _ours(before, tmp_path):
        time.sleep(0.5)
    assert not _ours(before, tmp_path), [" ".join(p.cmdline()[:3]) for p in _ours(before, tmp_path)]


def _name(pid: int) -> str:
    import psutil

    try:
        return " ".join(psutil.Process(pid).cmdline()[:3])
    except psutil.Error:
        return "?"


def _ours(before: set, tmp_path) -> list:
    """Processes started since ``before`` that belong to the test's Slurm, its job or its cluster."""
    import psutil

    return [p for p in psutil.process_iter() if p.pid not in before and _belongs(p, tmp_path)]


def _belongs(proc, tmp_path) -> bool:
    """Whether a live process is the test's Slurm, its job or its cluster (not whatever else the machine runs)."""
    import psutil

    try:
        proc = psutil.Process(proc) if isinstance(proc, int) else proc
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        text = " ".join(proc.cmdline()) + " " + proc.name()
    except psutil.Error:
        return False
    return str(tmp_path) in text or any(k in text for k in ("slurm", "munge", "dask", "ray", "imagevars"))
