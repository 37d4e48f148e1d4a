"""``imagevars slurm``: a readable sbatch script that runs an ``imagevars run`` on a Dask or Ray cluster of Slurm nodes.

    imagevars slurm dask --nodes 4 --cpus 32 --time 4:00:00 -o job.sbatch -- run detect PHOTOS/ -o objects.parquet
    imagevars slurm ray --nodes 2 --cpus 16 --gpus 1 --submit -- run clip PHOTOS/ -o clip.parquet --gpus-per-actor 1

Dask: a scheduler on the job's first node and one worker process per CPU on every node (one
thread each). Ray: a head on the first node and a Ray node on every other one (``ray start``
under ``srun``), each offering its CPUs and GPUs; the run gets one actor per CPU unless it says
``--actors``. Either way the script waits for the cluster, runs the command with ``--engine`` and
``--address`` pointed at it, and stops the cluster when the run ends; the table, its resume and
its provenance are the driver's, as in any run. Read it before submitting: it is plain bash with
``#SBATCH`` lines.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
from pathlib import Path

from .._version import __version__

HEADER = """#!/bin/bash
# Written by imagevars {version}: `imagevars {command}` on a {engine_name} cluster of {nodes} Slurm node(s).
#SBATCH --job-name={name}
#SBATCH --nodes={nodes}
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task={cpus}
#SBATCH --time={time}
#SBATCH --output={name}-%j.log
{extra}set -euo pipefail
"""

DASK = """
# The models on each worker use one thread: the node's CPUs are shared out as worker processes.
# Their health and metrics pages (no dashboard) listen on this node only (127.0.0.1).
export IMAGEVARS_THREADS=1 OMP_NUM_THREADS=1
SCHEDULER_FILE="$PWD/{name}-dask-$SLURM_JOB_ID.json"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT  # the scheduler and workers stop when the run ends

# 1. A Dask scheduler on this (the first) node
srun --nodes=1 --ntasks=1 --nodelist="$SLURMD_NODENAME" --overlap \\
    dask scheduler --scheduler-file "$SCHEDULER_FILE" --no-dashboard --dashboard-address 127.0.0.1:0{interface} &

# 2. On every node, one Dask worker process per CPU, one thread each
srun --nodes="$SLURM_NNODES" --ntasks-per-node=1 --overlap \\
    dask worker --scheduler-file "$SCHEDULER_FILE" --nworkers {cpus} --nthreads 1 --no-dashboard \\
        --dashboard-address 127.0.0.1:0{interface} &

# 3. The run, its driver on this node, once the scheduler is up
for _ in $(seq 120); do [ -s "$SCHEDULER_FILE" ] && break; sleep 1; done
imagevars {command} --engine dask --address "$SCHEDULER_FILE"
"""

RAY = """
# 1. The head's address on this (the first) node: {address_how}
HEAD_IP={head_ip}
PORT=$((20000 + SLURM_JOB_ID % 20000))
NODE_CPUS={cpus}
stop_ray() {{
    kill $(jobs -p) 2>/dev/null || true
    srun --nodes="$SLURM_NNODES" --ntasks-per-node=1 --overlap ray stop --force >/dev/null 2>&1 || true
}}
trap stop_ray EXIT  # every node's Ray processes stop when the run ends

# 2. The Ray head on this node, then one Ray node on each other node, each offering its CPUs{gpu_note}
srun --nodes=1 --ntasks=1 --nodelist="$SLURMD_NODENAME" --overlap \\
    ray start --head --block --node-ip-address="$HEAD_IP" --port="$PORT" --num-cpus="$NODE_CPUS"{gpus} \\
    --include-dashboard=false --disable-usage-stats &
for _ in $(seq 120); do ray status --address="$HEAD_IP:$PORT" >/dev/null 2>&1 && break; sleep 1; done
if [ "$SLURM_NNODES" -gt 1 ]; then
    srun --nodes=$((SLURM_NNODES - 1)) --ntasks-per-node=1 --exclude="$SLURMD_NODENAME" --overlap \\
        ray start --block --address="$HEAD_IP:$PORT" --num-cpus="$NODE_CPUS"{gpus} --disable-usage-stats &
fi

# 3. The run, its driver on this node: {actors_note}
imagevars {command} --engine ray --address "$HEAD_IP:$PORT"{actors}
"""


def _ray_parts(args: argparse.Namespace, parsed: argparse.Namespace) -> dict:
    if args.interface:
        head_ip = (
            f"$(ip -4 -o addr show dev {shlex.quote(args.interface)} | awk '{{print $4}}' | cut -d/ -f1 | head -n1)"
        )
        how = f"interface {args.interface}"
    else:
        head_ip, how = "$(hostname --ip-address | awk '{print $1}')", "the node's first address"
    if parsed.gpus_per_actor and not args.gpus:
        raise ValueError("the run asks --gpus-per-actor: give the nodes' GPUs with --gpus")
    if parsed.gpus_per_actor:  # as many actors as the GPUs hold, or actors would wait for a GPU forever
        each, per = max(1, int(parsed.gpus_per_actor)), f"{max(1, int(parsed.gpus_per_actor))} GPU(s)"
        count = f"$((SLURM_NNODES * {args.gpus} / {each}))"
    else:
        each = max(1, int(parsed.cpus_per_actor or 1))
        count, per = f"$((SLURM_NNODES * NODE_CPUS / {each}))", f"{each} CPU(s)"
    return {
        "head_ip": head_ip,
        "address_how": how,
        "gpus": f" --num-gpus={args.gpus}" if args.gpus else "",
        "gpu_note": f" and {args.gpus} GPU(s)" if args.gpus else "",
        "actors": "" if parsed.actors else f" --actors {count}",
        "actors_note": "the run's own --actors" if parsed.actors else f"one actor per {per} of the cluster",
    }


def script(args: argparse.Namespace, command: list[str]) -> str:
    """The sbatch script's text for ``imagevars <command>`` (checked to be an ``imagevars run`` that writes a file)."""
    from . import run

    if not command or command[0] != "run":
        raise ValueError(
            "put the run after --: imagevars slurm dask --nodes 4 --cpus 32 -- run detect PHOTOS/ -o o.parquet"
        )
    parser = argparse.ArgumentParser(prog="imagevars")
    run.add_commands(parser.add_subparsers(dest="command"))
    parsed = parser.parse_args(command)
    if not parsed.output:
        raise ValueError("the run needs -o: a cluster's table is written as it goes (and resumes)")
    if parsed.engine != "local" or parsed.address:
        raise ValueError("leave --engine and --address out of the run: the script sets them")
    extra = "".join(
        f"#SBATCH --{k}={v}\n"
        for k, v in (
            ("gpus-per-node", args.gpus),
            ("partition", args.partition),
            ("account", args.account),
            ("mem", args.memory),
        )
        if v
    )
    common = dict(
        version=__version__,
        command=shlex.join(command),
        nodes=args.nodes,
        cpus=args.cpus,
        time=args.time,
        name=args.name,
        extra=extra,
        engine_name=args.engine.capitalize(),
    )
    if args.engine == "ray":
        return HEADER.format(**common) + RAY.format(**common, **_ray_parts(args, parsed))
    interface = f" --interface {shlex.quote(args.interface)}" if args.interface else ""
    return HEADER.format(**common) + DASK.format(**common, interface=interface)


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
            raise FileNotFoundError(
                "--submit: sbatch is not on this machine's PATH; run this on the cluster's login node"
            )
        done = subprocess.run([sbatch, str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"sbatch refused {path}: {done.stderr.strip() or done.stdout.strip()}")
        print(done.stdout.strip())
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser(
        "slurm", help="write (and --submit) an sbatch script: a run on a Dask or Ray cluster of Slurm nodes"
    )
    p.add_argument("engine", choices=("dask", "ray"), help="the cluster the job starts on its nodes")
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument(
        "--cpus",
        type=int,
        required=True,
        help="CPUs per node (dask: one worker process each; ray: offered to the node's actors)",
    )
    p.add_argument(
        "--interface",
        help="the network interface the cluster talks over (e.g. ib0 for InfiniBand; default: the node's own address)",
    )
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
