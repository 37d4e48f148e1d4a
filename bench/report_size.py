"""The report page for a large table: seconds to write, file size, and time to first paint in Chromium.

    python bench/report_size.py --rows 100000

Builds a table of ``--rows`` rows (300 real JPEGs repeated; eight numeric, one text and one true/false variable),
writes its report, and loads the page in headless Chromium (Debian's chromium and chromium-driver)
from file://, reading the browser's first-contentful-paint. Prints how busy the machine was.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from quiet import Quiet  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    args = p.parse_args()
    import pyarrow as pa
    import skimage.data as data
    from PIL import Image

    from imagevars.io.table import Results
    from imagevars.report.page import write_report

    tmp = Path(tempfile.mkdtemp())
    photos = []
    for i in range(300):  # 300 real JPEGs (crops of four photos): the strips' thumbnails are made from them
        rgb = getattr(data, ("coffee", "chelsea", "astronaut", "rocket")[i % 4])()
        Image.fromarray(rgb[i % 50 :, i % 70 :]).save(tmp / f"p{i}.jpg", quality=90)
        photos.append(str(tmp / f"p{i}.jpg"))
    n, rng = args.rows, np.random.default_rng(0)
    table = pa.table(
        {
            "source": [photos[i % 300] for i in range(n)],
            "error": pa.array([None] * n, pa.string()),
            **{f"quality_v{k}": rng.random(n) for k in range(8)},
            "detect_top1_label": rng.choice(["person", "cup", "dog", "car"], n),
            "detect_person_any": rng.random(n) < 0.3,
        }
    )
    Results(table, {"version": "bench", "tasks": [{"name": "quality"}, {"name": "detect"}]}).write(tmp / "big.parquet")
    with Quiet() as q:
        t = time.perf_counter()
        page = write_report(tmp / "big.parquet")
        seconds = time.perf_counter() - t
    print(f"{n:,} rows: report written in {seconds:.1f} s, {page.stat().st_size / 1e6:.1f} MB; {q.line()}")
    sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "helpers"))
    from browser import chromium

    driver = chromium(tmp / "downloads")
    try:
        driver.get(page.as_uri())
        paint = driver.execute_script(
            "return performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
        )
        print(f"first contentful paint in headless Chromium: {paint / 1000:.2f} s" if paint else "no paint entry")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
