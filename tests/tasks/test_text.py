"""Text in images, read with PP-OCR from the rapidocr wheel, on scikit-image's scanned page and photos."""

import numpy as np
import pandas as pd
import pytest
import skimage.data as data
from PIL import Image

from imagevars.cli import main
from imagevars.tasks.text import TextTask, prepare

PAGE_LINE = "Let us first determine markers of the coins and the"


class _D:
    def __init__(self, rgb):
        self.rgb = rgb


@pytest.fixture(scope="module")
def task():
    return TextTask(content=True)


def _grey3(a):
    return np.stack([a] * 3, -1)


def _rotate(a, degrees):
    import cv2

    h, w = a.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s + w * c), int(h * c + w * s)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(a, m, (nw, nh), borderValue=(255, 255, 255))


def test_reads_the_scanned_page(task):
    r = task.read(prepare(_D(_grey3(data.page()))))
    assert r["present"] and r["lines"] == 5
    assert PAGE_LINE in r["content"].split("\n")
    assert r["confidence"] > 0.9 and 0.2 < r["area_share"] < 0.6
    assert r["words"] >= 25 and r["chars"] == len("".join(r["content"].split()))
    tilted = task.read(prepare(_D(_rotate(_grey3(data.page()), 15))))
    assert tilted["lines"] >= 4 and PAGE_LINE in tilted["content"]


def test_handwriting_is_found_with_less_confidence(task):
    page = task.read(prepare(_D(_grey3(data.page()))))
    hand = task.read(prepare(_D(_grey3(data.text()))))  # handwritten formulas in perspective
    assert hand["present"] and hand["confidence"] < page["confidence"]


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_photos_without_text_read_nothing(task, name):
    r = task.read(prepare(_D(getattr(data, name)())))
    assert (r["present"], r["lines"], r["chars"], r["area_share"], r["confidence"], r["content"]) == (
        False,
        0,
        0,
        0.0,
        None,
        "",
    )


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((1, 1, 3), np.uint8),
        np.zeros((1, 80, 3), np.uint8),
        np.full((90, 1, 3), 255, np.uint8),
        np.zeros((300, 300, 3), np.uint8),
        np.full((300, 300, 3), 255, np.uint8),
        np.rot90(_grey3(data.page())).copy(),
        np.rot90(_grey3(data.page()), 2).copy(),
    ],
    ids=["pixel", "row", "column", "black", "white", "vertical", "upside-down"],
)
def test_odd_images_give_defined_values(task, image):
    r = task.read(prepare(_D(image)))
    assert isinstance(r["present"], bool) and r["lines"] >= 0 and 0.0 <= r["area_share"] <= 1.0
    assert (r["confidence"] is None) == (not r["present"])


def test_run_with_the_text_flags(tmp_path):
    Image.fromarray(data.page()).save(tmp_path / "page.png")
    Image.fromarray(data.coffee()).save(tmp_path / "coffee.jpg")
    out = tmp_path / "t.parquet"
    assert main(["run", "text", str(tmp_path), "-o", str(out), "--workers", "0", "--text-min-score", "0.95"]) == 0
    t = pd.read_parquet(out)
    assert "text_content" not in t.columns  # the text itself only when asked for
    page = t[t.source.str.endswith("page.png")].iloc[0]
    assert 1 <= page["text_lines"] < 5  # only the lines read with confidence >= 0.95
    out2 = tmp_path / "t2.csv"
    assert main(["run", "text", str(tmp_path / "page.png"), "-o", str(out2), "--text-content"]) == 0
    assert PAGE_LINE in pd.read_csv(out2)["text_content"][0]


def test_provenance_pins_the_model_files(task):
    p = task.provenance()
    assert "rapidocr-onnxruntime" in p["model"] and p["weights_sha256"].count(".onnx:") == 3


def test_bad_settings():
    with pytest.raises(ValueError, match="min_score"):
        TextTask(min_score=2)
