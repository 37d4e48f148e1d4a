"""The same table on a cluster: a run on the local engine and on a Dask cluster, value for value.

Measures a small folder of photos (with one corrupt file) with ``quality`` and ``detect`` twice:
on this machine's worker processes, and on a Dask cluster started on 127.0.0.1 for the run (on a
real cluster, pass its address: ``--engine dask --address tcp://head:8786``, or ``--engine ray
--address auto``). The driver loads no model there: the workers build the tasks. The figure plots
every positive numeric cell of one table against the other (log scales): all on the diagonal. Then it writes the Slurm
script that would start such a cluster on 2 nodes and run the same command there.

Run: python examples/scale/plot_same_table_on_a_cluster.py [OUT.png]
"""

import os
import sys
import tempfile

import numpy as np
import skimage.data as data
from PIL import Image

import imagevars
from imagevars._extras import pyplot
from imagevars.cli import main

out = sys.argv[1] if len(sys.argv) > 1 else "same_table_on_a_cluster.png"
folder = tempfile.mkdtemp()
for name in ("astronaut", "coffee", "chelsea", "rocket", "camera"):
    Image.fromarray(getattr(data, name)()).save(os.path.join(folder, f"{name}.jpg"), quality=90)
with open(os.path.join(folder, "corrupt.jpg"), "wb") as f:
    f.write(b"not a jpeg")

if __name__ == "__main__":  # Dask's workers are processes that import this file
    local = imagevars.run(["quality", "detect"], folder, progress=False).to_pandas()
    dask = imagevars.run(["quality", "detect"], folder, progress=False, engine="dask", engine_options={"workers": 2})
    on_dask = dask.to_pandas()
    print("engine:", dask.provenance["engine"])
    print(
        "identical tables:", local.equals(on_dask), f"({len(local)} rows, {on_dask['error'].notna().sum()} error row)"
    )

    numeric = [c for c in local.columns if local[c].dtype.kind in "fi" and local[c].notna().any()]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    a = np.concatenate([local[c].to_numpy(float) for c in numeric])
    b = np.concatenate([on_dask[c].to_numpy(float) for c in numeric])
    keep = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    ax.loglog(a[keep], b[keep], ".", alpha=0.5)
    ax.loglog([a[keep].min(), a[keep].max()], [a[keep].min(), a[keep].max()], "k-", lw=0.5)
    ax.set_xlabel("local engine")
    ax.set_ylabel("Dask cluster")
    ax.set_title(
        f"every positive cell of {len(numeric)} numeric columns\n({keep.sum()} cells): on the diagonal", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")

    script = os.path.join(tempfile.mkdtemp(), "job.sbatch")
    main(
        [
            "slurm",
            "dask",
            "--nodes",
            "2",
            "--cpus",
            "16",
            "--time",
            "1:00:00",
            "-o",
            script,
            "--",
            "run",
            "quality,detect",
            "PHOTOS/",
            "-o",
            "vars.parquet",
        ]
    )
    print(open(script).read())
