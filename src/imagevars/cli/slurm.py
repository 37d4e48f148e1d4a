"""``imagevars slurm``: a readable sbatch script that runs an ``imagevars run`` on a Dask cluster of Slurm nodes.

    imagevars slurm dask --nodes 4 --cpus 32 --time 4:00:00 -o job.sbatch -- run detect PHOTOS/ -o objects.parquet
    imagevars slurm dask --nodes 2 --cpus 16 --submit -- run quality PHOTOS/ -o vars.parquet

The script starts a Dask scheduler on the job's first node and one worker process per CPU on
every node (one thread each), waits for the scheduler, and runs the command with
``--engine dask`` pointed at it; the table, its resume and its provenance are the driver's, as in
any run. Read it before submitting: it is plain bash with ``#SBATCH`` lines.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
from pathlib import Path

from .._version import __version__

TEMPLATE = """#!/bin/bash
# Written by imagevars {version}: `imagevars {command}` on a Dask cluster of {nodes} Slurm node(s).
#SBATCH --job-name={name}
#SBATCH --nodes={nodes}
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task={cpus}
#SBATCH --time={time}
#SBATCH --output={name}-%j.log
{extra}set -euo pipefail

# The models on each worker use one thread: the node's CPUs are shared out as worker processes.
export IMAGEVARS_THREADS=1 OMP_NUM_THREADS=1
SCHEDULER_FILE="$PWD/{name}-dask-$SLURM_JOB_ID.json"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT  # the scheduler and workers stop when the run ends

# 1. A Dask scheduler on this (the first) node
srun --nodes=1 --ntasks=1 --nodelist="$SLURMD_NODENAME" --overlap \\
    dask scheduler --scheduler-file "$SCHEDULER_FILE" --no-dashboard &

# 2. On every node, one Dask worker process per CPU, one thread each
srun --nodes="$SLURM_NNODES" --ntasks-per-node=1 --overlap \\
    dask worker --scheduler-file "$SCHEDULER_FILE" --nworkers {cpus} --nthreads 1 --no-dashboard &

# 3. The run, its driver on this node, once the scheduler is up
for _ in $(seq 120); do [ -s "$SCHEDULER_FILE" ] && break; sleep 1; done
imagevars {command} --engine dask --address "$SCHEDULER_FILE"
"""


def script(args: argparse.Namespace, command: list[str]) -> str:
    """The sbatch script's text for ``imagevars <command>`` (checked to be an ``imagevars run`` that writes a file)."""
    from . import run

    if not command or command[0] != "run":
        raise ValueError("put the run after --: imagevars slurm dask --nodes 4 --cpus 32 -- run detect PHOTOS/ -o o.parquet")
    parser = argparse.ArgumentParser(prog="imagevars")
    run.add_commands(parser.add_subparsers(dest="command"))
    parsed = parser.parse_args(command)
    if not parsed.output:
        raise ValueError("the run needs -o: a cluster's table is written as it goes (and resumes)")
    if parsed.engine != "local" or parsed.address:
        raise ValueError("leave --engine and --address out of the run: the script sets them")
    extra = "".join(f"#SBATCH --{k}={v}\n" for k, v in (("gpus-per-node", args.gpus), ("partition", args.partition),
                                                          ("account", args.account), ("mem", args.memory)) if v)
    return TEMPLATE.format(version=__version__, command=shlex.join(command), nodes=args.nodes, cpus=args.cpus,
                           time=args.time, name=args.name, extra=extra)


def cmd_slurm(args: argparse.Namespace) -> int:
    from ..io.files import atomic_write

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    text = script(args, command)
    path = Path(args.output or f"{args.name}.sbatch")
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))
    path.chmod(0o755)
    print(f"Wrote {path}: read it, then submit it with: sbatch {path}")
    if args.submit:
        sbatch = shutil.which("sbatch")
        if sbatch is None:
            raise FileNotFoundError("--submit: sbatch is not on this machine's PATH; run this on the cluster's login node")
        done = subprocess.run([sbatch, str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"sbatch refused {path}: {done.stderr.strip() or done.stdout.strip()}")
        print(done.stdout.strip())
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("slurm", help="write (and --submit) an sbatch script: a run on a Dask cluster of Slurm nodes")
    p.add_argument("engine", choices=("dask",), help="the cluster the job starts (dask; ray comes next)")
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--cpus", type=int, required=True, help="CPUs per node (one Dask worker process each)")
    p.add_argument("--gpus", type=int, help="GPUs per node")
    p.add_argument("--time", default="4:00:00", help="the job's time limit (default 4:00:00)")
    p.add_argument("--partition")
    p.add_argument("--account")
    p.add_argument("--memory", help="memory per node (Slurm's --mem, e.g. 64G)")
    p.add_argument("--name", default="imagevars", help="job name, and the script's and log's names")
    p.add_argument("-o", "--output", help="the script (default <name>.sbatch)")
    p.add_argument("--submit", action="store_true", help="also submit it with sbatch")
    p.add_argument("command", nargs="*", help="after --: run TASKS SOURCE -o TABLE ...")
    p.set_defaults(func=cmd_slurm)
