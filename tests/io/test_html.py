"""One escaping rule for the pages: hostile file names, labels, codebook text, kept columns and titles
render as written in a real Chromium, the page's own script runs, and nothing else does."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest
from PIL import Image

import imagevars
from browser import console_errors  # tests/helpers
from hostile import FILE_NAMES, HOSTILE, pwned, shown  # tests/helpers
from imagevars.io.html import fill, script_json
from imagevars.io.table import Results


@pytest.mark.parametrize("s", HOSTILE)
def test_script_json_round_trips_and_cannot_end_a_script_or_open_a_comment(s):
    encoded = script_json({"name": s, "list": [s, 1.5, None]})
    assert json.loads(encoded) == {"name": s, "list": [s, 1.5, None]}
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in encoded


def test_slots_are_filled_once_so_data_naming_a_slot_stays_data():
    page = fill("<title>__TITLE__</title><script>__DATA__</script>", title="__DATA__", data=script_json("__TITLE__"))
    assert page == '<title>__DATA__</title><script>"__TITLE__"</script>'
    with pytest.raises(ValueError, match="no slot __NOTE__"):
        fill("__DATA__", data="1", note="x")


@pytest.fixture(scope="module")
def hostile_photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    for i, s in enumerate(FILE_NAMES):
        Image.new("RGB", (32 + i, 24), (40 * (i % 6), 90, 200)).save(folder / f"{s}.png")
    return folder


def test_the_report_page_shows_hostile_strings_as_written_and_runs_only_its_own_script(
    hostile_photos, tmp_path, browser
):
    from imagevars.report.page import write_report

    res = imagevars.run(["quality"], hostile_photos, progress=False)
    assert res.n_errors == 0 and len(res) == len(HOSTILE)
    df = res.to_pandas()
    df["classify_top1_label"] = HOSTILE  # labels from a model
    df["text_content"] = list(reversed(HOSTILE))  # OCR text
    df[HOSTILE[2]] = HOSTILE  # a kept column whose name is hostile too
    table = tmp_path / f"{FILE_NAMES[1]}{FILE_NAMES[6]}.parquet"  # the title
    Results(pa.Table.from_pandas(df, preserve_index=False), res.provenance).write(table)
    page = write_report(table, tmp_path / "report.html")
    browser.get(page.as_uri())
    assert browser.execute_script("return document.querySelectorAll('#table tbody tr').length") == len(HOSTILE)
    assert not pwned(browser)
    assert shown(browser, HOSTILE + FILE_NAMES + [table.name]) == []
    assert browser.title.endswith(table.name)
    assert console_errors(browser) == []


def test_the_coding_page_shows_hostile_codebook_text_and_names_as_written(hostile_photos, tmp_path, browser):
    from selenium.webdriver.common.by import By

    from imagevars.validate.codebook import Codebook, Question
    from imagevars.validate.page import write_page

    drawn = pd.DataFrame(
        {
            "source": [str(p) for p in sorted(hostile_photos.iterdir())],
            "stratum": HOSTILE[3],
            "inclusion_probability": 0.5,
        }
    )
    codebook = Codebook(
        HOSTILE[1],
        [Question("q", HOSTILE[2], [(HOSTILE[4], "y"), (HOSTILE[5], "n")])],
        instructions=HOSTILE[0] + HOSTILE[8],
    )
    page = write_page(drawn, codebook, tmp_path, {drawn.source[0]: HOSTILE[9]})
    browser.get(page.as_uri())
    assert not pwned(browser)
    assert shown(browser, [HOSTILE[1], HOSTILE[0] + HOSTILE[8]]) == []
    browser.find_element(By.ID, "coder").send_keys("Ada")
    browser.find_element(By.ID, "begin").click()
    assert "Image 1 of" in browser.find_element(By.ID, "which").text  # the page's own script runs
    assert shown(browser, [HOSTILE[2], HOSTILE[4], HOSTILE[5]]) == []
    browser.find_element(By.TAG_NAME, "body").send_keys("m")
    assert shown(browser, [HOSTILE[9]]) == []  # the model's answer, shown on request
    assert not pwned(browser) and console_errors(browser) == []
