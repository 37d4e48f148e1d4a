"""The coding page in a real headless Chromium: keys, a reload mid-way, the export, the image shown."""

from __future__ import annotations

import io
import time

import numpy as np
import pandas as pd
import skimage.data as data
from PIL import Image

from browser import console_errors, network_requests  # tests/helpers
from imagevars.validate.codebook import Codebook, Question
from imagevars.validate.page import write_page


def test_a_coder_codes_with_keys_survives_a_reload_and_exports_a_csv(tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys  # noqa: F401 - send_keys takes plain characters

    photos = {"cat": data.chelsea(), "coffee": data.coffee(), "astronaut": data.astronaut(), "rocket": data.rocket()}
    rows = []
    for name, rgb in photos.items():
        path = tmp_path / f"{name}.jpg"
        Image.fromarray(rgb).save(path)
        rows.append({"source": str(path), "stratum": "all", "inclusion_probability": 0.5})
    drawn = pd.DataFrame(rows)
    codebook = Codebook(
        "Animals",
        [
            Question("animal", "Is there an animal?", [("yes", "y"), ("no", "n")]),
            Question("people", "How many people?", [("none", "0"), ("one", "1"), ("more", "2")], level="ordinal"),
        ],
        instructions="Code what you see.",
    )
    page = write_page(drawn, codebook, tmp_path, {str(tmp_path / "cat.jpg"): "yes"})
    browser.get(page.as_uri())
    browser.find_element(By.ID, "coder").send_keys("Ada")
    browser.find_element(By.ID, "begin").click()
    body = browser.find_element(By.TAG_NAME, "body")
    assert not browser.find_element(By.ID, "model").is_displayed()  # blind: the model's answer is hidden
    body.send_keys("m")
    assert "Model: yes" in browser.find_element(By.ID, "model").text
    body.send_keys("m")
    # the screenshot shows the cat: the image area is mostly the photo's colours, not the page's grey
    shot = np.asarray(Image.open(io.BytesIO(browser.find_element(By.ID, "image").screenshot_as_png)).convert("RGB"))
    assert shot.shape[0] > 200 and shot.std() > 30
    body.send_keys("y")  # cat: animal yes
    body.send_keys("0")  # no people
    body.send_keys("n")  # coffee: no animal
    body.send_keys("b")  # back to coffee's animal question, and answer it again
    body.send_keys("n")
    body.send_keys("0")
    assert "2 / 4 coded" in browser.find_element(By.ID, "progress").text
    browser.refresh()  # a reload mid-way loses nothing
    body = browser.find_element(By.TAG_NAME, "body")
    assert "2 / 4 coded" in browser.find_element(By.ID, "progress").text
    assert "Image 3 of 4" in browser.find_element(By.ID, "which").text
    body.send_keys("n")  # astronaut: no animal, one person, flagged
    body.send_keys("1")
    body.send_keys("b")
    body.send_keys("f")
    body.send_keys("1")
    body.send_keys("s")  # rocket: skipped
    browser.find_element(By.ID, "export").click()
    target = tmp_path / "downloads" / "coder_Ada.csv"
    for _ in range(50):
        if target.exists():
            break
        time.sleep(0.1)
    csv = pd.read_csv(target)
    got = csv.set_index(csv["source"].map(lambda s: s.rsplit("/", 1)[-1]))
    assert list(got.index) == ["cat.jpg", "coffee.jpg", "astronaut.jpg", "rocket.jpg"]
    assert got.loc["cat.jpg", "animal"] == "yes" and got.loc["cat.jpg", "people"] == "none"
    assert got.loc["coffee.jpg", "animal"] == "no" and got.loc["astronaut.jpg", "people"] == "one"
    assert got.loc["astronaut.jpg", "flagged"] == 1 and got.loc["rocket.jpg", "skipped"] == 1
    assert (got["coder"] == "Ada").all() and (got["inclusion_probability"] == 0.5).all()
    assert console_errors(browser) == [] and network_requests(browser) == []
