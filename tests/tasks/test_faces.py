"""Faces on real photos with known content, and scikit-image's labelled face / non-face crops."""

import numpy as np
import pandas as pd
import pytest
import skimage.data as data
from PIL import Image

from imagevars.cli import main
from imagevars.tasks.faces import COLUMNS, FacesTask

REFERENCE = "tests/data/blazeface_reference.npz"


@pytest.fixture(scope="module")
def task():
    return FacesTask()


def _in_frame(crop, frame=400):
    import cv2

    g = cv2.resize((crop * 255).astype(np.uint8), (100, 100), interpolation=cv2.INTER_CUBIC)
    pad = (frame - 100) // 2
    return np.stack([cv2.copyMakeBorder(g, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=128)] * 3, -1)


def test_onnx_files_compute_what_the_original_graphs_compute():
    """The shipped conversions against TensorFlow's run of the original TF.js graphs (tools/convert_blazeface.py)."""
    import imagevars
    from imagevars.models.blazeface import FACE_CHECK

    det = imagevars.create_model("blazeface-back", threads=1)
    check = imagevars.create_model(FACE_CHECK.name, threads=1)
    ref = np.load(REFERENCE)
    images = {n: getattr(data, n)() for n in ("astronaut", "chelsea", "coffee", "camera")}
    faces = data.lfw_subset()[:4]
    images["lfw_mosaic"] = (np.block([[faces[0], faces[1]], [faces[2], faces[3]]]) * 255).astype(np.uint8)
    images["lfw_face"] = (faces[0] * 255).astype(np.uint8)
    for name, rgb in images.items():
        img = Image.fromarray(rgb).convert("RGB")
        x = np.asarray(img.resize((256, 256), Image.Resampling.BILINEAR), np.float32) / 127.5 - 1.0
        scores, boxes = det.raw(x)
        assert np.abs(scores - ref[f"{name}/scores"]).max() < 5e-3, name
        assert np.abs(boxes[ref[f"{name}/top"]] - ref[f"{name}/boxes"]).max() < 1e-3, name
        crop = np.asarray(img.resize((192, 192), Image.Resampling.BILINEAR), np.float32)[None] / 255.0
        assert (
            abs(float(check.run(None, {"images": crop})[0].ravel()[0]) - float(ref[f"{name}/faceflag"].ravel()[0]))
            < 1e-3
        )
    assert float(ref["lfw_face/faceflag"].ravel()[0]) > 0.9  # the reference does include a face


@pytest.mark.parametrize(
    "name,count",
    [("astronaut", 1), ("camera", 1), ("chelsea", 0), ("coffee", 0), ("rocket", 0), ("horse", 0), ("page", 0)],
)
def test_photos_with_known_faces(task, name, count):
    a = getattr(data, name)()
    a = (a * 255).astype(np.uint8) if a.dtype == bool else a
    rgb = np.stack([a] * 3, -1) if a.ndim == 2 else a[..., :3]
    r = task.look(rgb)
    assert r["count"] == count
    if count:
        assert r["top_check"] > 0.9 and 0.01 < r["largest_share"] < 0.2
    else:
        assert r["largest_x"] is None and r["largest_share"] == 0.0


def test_the_astronauts_face_is_where_it_is(task):
    r = task.look(data.astronaut())
    # her face spans roughly x 175-275, y 70-180 of 512 (upper middle of the frame)
    assert 0.38 < r["largest_x"] < 0.5 and 0.15 < r["largest_y"] < 0.3
    assert r["total_share"] == pytest.approx(r["largest_share"], rel=0.02)


def test_labelled_faces_and_non_faces(task):
    crops = data.lfw_subset()
    found = np.array([task.look(_in_frame(c))["count"] for c in crops])
    faces, others = found[:100], found[100:]
    assert (faces >= 1).mean() >= 0.9  # measured 0.96
    assert (others >= 1).mean() <= 0.02  # measured 0.00
    assert (faces <= 1).all()  # one face, never counted twice


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((1, 1, 3), np.uint8),
        np.zeros((1, 90, 3), np.uint8),
        np.zeros((90, 1, 3), np.uint8),
        np.zeros((200, 300, 3), np.uint8),
        np.full((200, 300, 3), 255, np.uint8),
    ],
    ids=["pixel", "row", "column", "black", "white"],
)
def test_odd_images_have_no_faces(task, image):
    r = task.look(image)
    assert (r["count"], r["largest_share"], r["total_share"], r["largest_x"]) == (0, 0.0, 0.0, None)
    assert 0.0 <= r["top_check"] <= 1.0


def test_run_and_thresholds(tmp_path):
    Image.fromarray(data.astronaut()).save(tmp_path / "astronaut.jpg")
    Image.fromarray(data.chelsea()).save(tmp_path / "cat.jpg")
    Image.fromarray(data.camera()).convert("L").save(tmp_path / "camera.png")  # greyscale
    out = tmp_path / "f.parquet"
    assert main(["run", "faces", str(tmp_path), "-o", str(out), "--workers", "0"]) == 0
    t = pd.read_parquet(out)
    t.index = [s.rsplit("/", 1)[-1] for s in t.source]
    assert t.loc[["astronaut.jpg", "camera.png", "cat.jpg"], "faces_count"].tolist() == [1, 1, 0]
    assert list(t.columns[-len(COLUMNS) :]) == [f"faces_{c}" for c in COLUMNS]
    strict = tmp_path / "strict.parquet"
    assert main(["run", "faces", str(tmp_path), "-o", str(strict), "--face-min-score", "0.8"]) == 0
    assert pd.read_parquet(strict)["faces_count"].sum() == 1  # only the astronaut (0.88) passes 0.8


def test_bad_settings():
    with pytest.raises(ValueError, match="min_check"):
        FacesTask(min_check=1.5)


def test_tiles_find_small_faces_without_new_false_ones():
    """A face a sixteenth of the longer side: mostly missed whole, found in tiles; non-faces and the cat stay out."""
    from imagevars.io.decode import shrink

    crops = data.lfw_subset()
    plain, tiled = FacesTask(), FacesTask(tiles=3)
    assert tiled.min_check == 0.9 and plain.min_check == 0.5
    small = [shrink(_in_frame(c, frame=1600), 640) for c in crops[:40]]
    found_plain = np.mean([plain.look(x)["count"] >= 1 for x in small])
    found_tiled = np.mean([tiled.look(x)["count"] >= 1 for x in small])
    assert found_plain < 0.4 and found_tiled >= 0.85  # measured 0.16 and 0.95 on all 100
    assert sum(tiled.look(shrink(_in_frame(c, frame=1600), 640))["count"] for c in crops[100:140]) == 0
    assert tiled.look(data.chelsea())["count"] == 0 and tiled.look(data.astronaut())["count"] == 1
