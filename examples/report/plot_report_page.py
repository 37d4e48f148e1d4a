"""One page per run: every variable's distribution, the images at its low and high ends, errors and provenance.

Run: python examples/report/plot_report_page.py      (a few seconds on 2 cores; offline; opens nothing)

scikit-image's sample photos, one of them a file that is not an image, are measured with
``quality`` and the bundled detector; ``write_report`` then writes the table's page: a
self-contained HTML file (thumbnails inside) that opens from ``file://`` in any browser. It shows
each variable's definition from the codebook, its histogram, a strip of the images with its lowest
and highest values (detections drawn on them), the rows that failed and why, and the run's
provenance (versions, models and their sha256). The command line does the same:
``imagevars report photo_vars.parquet``.
"""

import tempfile
from pathlib import Path

import skimage.data as data
from PIL import Image

import imagevars
from imagevars.report.page import write_report

folder = Path(tempfile.mkdtemp())
for name in ("astronaut", "chelsea", "coffee", "rocket", "camera", "horse"):
    Image.fromarray(getattr(data, name)()).convert("RGB").save(folder / f"{name}.jpg", quality=90)
(folder / "notes.jpg").write_text("not an image")  # becomes one error row, shown on the page

table = imagevars.run(["quality", "detect"], folder, folder / "photo_vars.parquet", progress=False)
print(table)
page = write_report(folder / "photo_vars.parquet")
print(f"report page: {page} ({page.stat().st_size / 1e3:.0f} kB); open it in a browser")
