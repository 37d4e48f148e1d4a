"""A one-node Slurm cluster on 127.0.0.1 inside a test: munged, slurmctld and slurmd from Debian's slurm-wlm,
with their configuration, key, state and logs in a temporary folder, stopped when the test ends.

``make test`` installs slurm-wlm; a machine without it fails these tests with the command that installs it.
The daemons bind to 127.0.0.1 only (``CommunicationParameters=NoInAddrAny`` with every address
127.0.0.1); munge talks over a Unix socket in the folder. Starting takes about 0.1 s here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from sockets import unused_port

BINARIES = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol")

CONF = """ClusterName=imagevars-test
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge.socket
CredType=cred/munge
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SrunPortRange={srun_ports}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


@contextlib.contextmanager
def one_node_slurm(root: Path):
    """Yield the environment (``SLURM_CONF``) under which sbatch, squeue ... talk to a fresh one-node cluster."""
    import pytest

    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        pytest.fail(
            f"the Slurm tests need Debian's slurm-wlm ({', '.join(missing)} missing): `make test` installs "
            "it (apt-get install slurm-wlm)"
        )
    if os.geteuid() != 0:
        pytest.fail("the one-node Slurm cluster runs its daemons as root (slurmd starts jobs); run as root")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    for sub in ("state", "spool"):
        (root / sub).mkdir(exist_ok=True)
    start = unused_port()
    (root / "slurm.conf").write_text(
        CONF.format(
            host=socket.gethostname(),
            root=root,
            ctld_port=unused_port(),
            d_port=unused_port(),
            srun_ports=f"{start}-{start + 20}",
            cpus=os.cpu_count(),
        )
    )
    env = {**os.environ, "SLURM_CONF": str(root / "slurm.conf")}
    run = dict(env=env, check=True, capture_output=True, timeout=30)
    subprocess.run(["mungekey", "--create", f"--keyfile={root}/munge.key", "--force"], **run)
    munge = [
        "munged",
        "-f",
        f"--socket={root}/munge.socket",
        f"--key-file={root}/munge.key",
        f"--pid-file={root}/munged.pid",
        f"--log-file={root}/munged.log",
        f"--seed-file={root}/munged.seed",
    ]
    try:
        subprocess.run(munge, **run)
        subprocess.run(["slurmctld", "-f", str(root / "slurm.conf")], **run)
        subprocess.run(["slurmd", "-f", str(root / "slurm.conf")], **run)
        deadline = time.time() + 30
        while time.time() < deadline:
            state = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True).stdout
            if "idle" in state:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"the one-node Slurm did not come up: {(root / 'slurmctld.log').read_text()[-2000:]}")
        yield env
    finally:
        subprocess.run(["scancel", "--full", "--user=root"], env=env, capture_output=True)
        for pid_file in ("slurmd.pid", "slurmctld.pid", "munged.pid"):
            with contextlib.suppress(OSError, ValueError):
                _stop(int((root / pid_file).read_text().split()[0]))


def _stop(pid: int, timeout: float = 15) -> None:
    """SIGTERM, then wait for the daemon to exit (slurmctld saves its state first); SIGKILL if it will not."""
    import psutil

    try:
        proc = psutil.Process(pid)
        proc.terminate()
        proc.wait(timeout)
    except psutil.TimeoutExpired:
        proc.kill()
    except psutil.NoSuchProcess:
        pass


def wait_for_jobs(env: dict, timeout: float = 180) -> None:
    """Until the queue is empty."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not subprocess.run(["squeue", "-h"], env=env, capture_output=True, text=True).stdout.strip():
            return
        time.sleep(0.5)
    raise TimeoutError(f"Slurm jobs still queued or running after {timeout} s")
