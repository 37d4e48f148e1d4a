"""The report page: written for real tables, bounded, and working in a real headless Chromium from file://."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pytest
import skimage.data as data
from PIL import Image

import imagevars
from browser import console_errors, network_requests  # tests/helpers
from imagevars.cli import main
from imagevars.io.table import Results
from imagevars.report.page import write_report


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name in (
        "chelsea",
        "coffee",
        "astronaut",
        "rocket",
        "camera",
        "page",
        "immunohistochemistry",
        "hubble_deep_field",
    ):
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.png")
    (folder / "broken.png").write_bytes(b"not a png")
    res = imagevars.run(["quality", "detect"], folder, folder / "vars.parquet", progress=False)
    assert res.n_errors == 1
    return folder


def test_the_page_shows_the_run_the_variables_and_their_images(measured, tmp_path, browser):
    from selenium.webdriver.common.by import By

    assert main(["report", str(measured / "vars.parquet"), "-o", str(tmp_path / "report.html")]) == 0
    browser.get((tmp_path / "report.html").as_uri())
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "9 rows from 9 inputs; 1 error rows." in text and "broken.png" in text
    assert "mean luma / 255, in [0, 1]" in text  # the codebook's definition of quality_brightness
    assert "centernet" in text.lower()  # the model and its weights in the run's provenance
    strip = browser.find_element(By.CSS_SELECTOR, "#var-quality_brightness .strip img")
    assert strip.get_attribute("alt").endswith(tuple("0123456789"))  # "name: variable = value"
    shot = np.asarray(Image.open(io.BytesIO(strip.screenshot_as_png)).convert("RGB"))
    assert shot.std() > 20  # a photo, not a blank box
    # sorting a column reorders the rows
    column = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#table th button")].index("quality_brightness")

    def header():  # the table is drawn again after each sort
        return browser.find_elements(By.CSS_SELECTOR, "#table th button")[column]

    def values():
        cells = browser.find_elements(By.CSS_SELECTOR, f"#table tbody tr td:nth-child({column + 1})")
        return [float(c.text) for c in cells if c.text]

    header().click()
    assert values() == sorted(values()) and len(values()) == 8
    header().click()
    assert values() == sorted(values(), reverse=True)
    # clicking a thumbnail shows its row
    strip.click()
    details = browser.find_element(By.ID, "details")
    assert details.is_displayed() and strip.get_attribute("alt").split(":")[0] in details.text
    assert console_errors(browser) == [] and network_requests(browser) == []


def test_a_million_rows_give_a_bounded_page(tmp_path):
    n = 1_000_000
    rng = np.random.default_rng(0)
    photo = tmp_path / "p.png"
    Image.fromarray(data.coffee()).save(photo)
    sources = np.array([f"{tmp_path}/missing/{i}.jpg" for i in range(n)], dtype=object)
    sources[:50] = str(photo)
    table = pa.table(
        {
            "source": sources,
            "error": pa.array([None] * n, pa.string()),
            "quality_brightness": rng.random(n),
            "detect_person_any": rng.random(n) < 0.2,
        }
    )
    Results(table, {"version": "test", "tasks": [{"name": "quality"}, {"name": "detect"}]}).write(
        tmp_path / "big.parquet"
    )
    page = write_report(tmp_path / "big.parquet", max_rows=2000)
    size = page.stat().st_size
    assert size < 5_000_000
    text = page.read_text()
    assert "A random sample of" in text and "image missing" in text  # the sampling stated; moved images shown as such


def _embedded(page) -> dict:
    return json.loads(page.read_text().split('type="application/json">')[1].split("</script>")[0])


@pytest.mark.parametrize("sources, errors, rows", [(["a.jpg"], ["a.jpg: not an image"], 1), ([], [], 0)])
def test_tables_without_variables_still_give_a_page(tmp_path, browser, sources, errors, rows):
    from selenium.webdriver.common.by import By

    Results(pa.table({"source": pa.array(sources, pa.string()), "error": pa.array(errors, pa.string())}), {}).write(
        tmp_path / "t.parquet"
    )
    page = write_report(tmp_path / "t.parquet")
    got = _embedded(page)
    assert got["variables"] == [] and got["counts"] == {"rows": rows, "sources": rows, "errors": rows}
    browser.get(page.as_uri())
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "no variables to show (no task columns)" in text and console_errors(browser) == []
    assert ("a.jpg: not an image" in text) == bool(rows)


def test_a_csv_without_provenance_says_so(measured, tmp_path):
    df = imagevars.Results.read(measured / "vars.parquet").to_pandas()
    df.to_csv(tmp_path / "vars.csv", index=False)
    page = write_report(tmp_path / "vars.csv", tmp_path / "r.html")
    data_json = _embedded(page)
    assert "carries no provenance" in data_json["note"] and data_json["counts"]["rows"] == 9


def test_run_report_writes_the_page_beside_the_table(measured, tmp_path, capsys):
    assert (
        main(
            [
                "run",
                "quality",
                str(measured / "chelsea.png"),
                "-o",
                str(tmp_path / "one.parquet"),
                "--report",
                "-q",
                "--workers",
                "0",
            ]
        )
        == 0
    )
    assert (tmp_path / "one.html").exists() and "one.html" in capsys.readouterr().out
