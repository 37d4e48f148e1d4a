"""Object detection: the bundled CenterNet against the TF.js reference outputs, the lecture's photos,
the codebook's variables, bad input, the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import imagevars  # noqa: E402
from imagevars.models.labels import COCO_LABELS  # noqa: E402
from imagevars.tasks.detect import DetectTask, nms, objects, person_any, union_area  # noqa: E402

REFERENCE = Path(__file__).parents[1] / "data" / "centernet_reference.npz"


@pytest.fixture(scope="module")
def detector():
    return imagevars.create_model("centernet-mbv3-coco", pretrained=True, threads=2)


@pytest.fixture(scope="module")
def task():
    return DetectTask(threads=2)


def _photo(name: str) -> np.ndarray:
    """As tools/convert_centernet.py fed TF.js: RGB resized to 512x512 bilinear."""
    import skimage.data
    from PIL import Image

    img = Image.fromarray(getattr(skimage.data, name)()).convert("RGB").resize((512, 512), Image.Resampling.BILINEAR)
    return np.asarray(img, np.uint8)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    import skimage.data
    from PIL import Image

    folder = tmp_path_factory.mktemp("photos")
    for name in ("astronaut", "coffee", "chelsea"):
        Image.fromarray(getattr(skimage.data, name)()).save(folder / f"{name}.png")
    return folder


def test_onnx_equals_tfjs_reference(detector):
    ref = np.load(REFERENCE)
    assert set(ref.files) >= {"astronaut", "coffee"}
    for name in ref.files:
        got, want = detector.predict(_photo(name)[None])[0], ref[name][0]
        # near-tied scores may swap places: match each reference detection to the same class's nearest box
        for row in want[want[:, 4] > 0.01]:
            same = got[got[:, 5] == row[5]]
            assert len(same), f"{name}: class {int(row[5])} missing"
            best = same[np.abs(same[:, :4] - row[:4]).max(1).argmin()]
            # boxes in units of the input side (1e-3 = 0.5 px); measured: about 1e-3 px, float32 rounding
            assert np.abs(best[:4] - row[:4]).max() / 512 < 1e-3, name
            assert abs(best[4] - row[4]) < 1e-3, name


def test_lecture_photos_top_objects(photos):
    r = imagevars.run(["detect"], photos, workers=1, progress=False)
    df = r.to_pandas().set_index(r.to_pandas()["source"].map(lambda s: Path(s).stem))
    assert df.loc["astronaut", "detect_top1_label"] == "person"
    assert "cup" in (df.loc["coffee", "detect_top1_label"], df.loc["coffee", "detect_top2_label"])
    assert df.loc["astronaut", "detect_person_max"] > 0.5 and df.loc["coffee", "detect_person_max"] < 0.3
    assert df["error"].isna().all()
    task = r.provenance["tasks"][0]
    assert task["params"] == {"model": "centernet-mbv3-coco", "top": 3, "threshold": 0.3, "floor": 0.05, "nms": 0.5}
    assert task["weights_sha256"] == imagevars.get_card("centernet-mbv3-coco").weights.sha256


def test_variables_follow_the_codebook(task, detector):
    det = nms(detector.predict(_photo("coffee")[None])[0], 0.5)
    v = task.variables(det)
    scores, classes = det[:, 4], det[:, 5].astype(int)
    kept = scores >= 0.3
    assert v["detect_n_objects"] == kept.sum() > 0
    assert v["detect_count_cup"] == int((kept & (classes == 41)).sum())
    assert sum(v[f"detect_count_{c.replace(' ', '_')}"] for c in COCO_LABELS) == kept.sum()
    assert v["detect_top1_score"] == pytest.approx(scores.max())
    person = scores[classes == 0]
    assert v["detect_person_max"] == pytest.approx(person.max())
    p = person[person >= 0.05].astype(np.float64)
    assert v["detect_person_any"] == pytest.approx(1 - np.prod(1 - p))
    cups = det[kept & (classes == 41), :4]
    assert 0 < v["detect_area_cup"] <= 1 and v["detect_area_cup"] == pytest.approx(union_area(cups))
    assert v["detect_area_dog"] == 0.0


def test_nms_merges_duplicates_of_one_class_only():
    d = np.array(
        [[0, 0, 100, 100, 0.9, 0], [5, 5, 100, 100, 0.6, 0], [0, 0, 100, 100, 0.5, 16], [300, 300, 400, 400, 0.4, 0]],
        np.float32,
    )
    kept = nms(d, 0.5)
    assert kept[:, 4].tolist() == pytest.approx([0.9, 0.5, 0.4]) and kept[:, 5].tolist() == [0, 16, 0]
    assert len(nms(d, None)) == 4


def test_duplicate_person_boxes_are_one_person(task, detector):
    raw = detector.predict(_photo("astronaut")[None])[0]
    assert ((raw[:, 5] == 0) & (raw[:, 4] >= 0.15)).sum() >= 2  # CenterNet's neighbouring peaks ...
    v = task.variables(nms(raw, 0.5))
    assert v["detect_count_person"] == 1 and v["detect_person_max"] > 0.6  # ... are one astronaut


def test_person_any_and_union_area():
    assert person_any(np.array([0.5, 0.5]), 0.05) == pytest.approx(0.75)
    assert person_any(np.array([0.04]), 0.05) == 0.0
    assert union_area(np.array([[0, 0, 256, 512], [0, 0, 256, 512]])) == pytest.approx(0.5)  # overlap counted once
    assert union_area(np.array([[-50, -50, 600, 600]])) == 1.0


def test_long_format_boxes_are_in_original_pixels(detector):
    det = detector.predict(_photo("coffee")[None])[0]
    rows = objects(det, 600, 400, COCO_LABELS, 0.3)
    assert rows[0]["label"] == "cup" and [r["object"] for r in rows] == list(range(len(rows)))
    top = det[det[:, 4].argmax()]
    assert rows[0]["x2"] == pytest.approx(min(600, top[2] * 600 / 512), rel=1e-5)
    assert rows[0]["y2"] == pytest.approx(min(400, top[3] * 400 / 512), rel=1e-5)
    assert all(0 <= r["x1"] <= r["x2"] <= 600 and 0 <= r["y1"] <= r["y2"] <= 400 for r in rows)


def test_bad_and_odd_images_become_rows(tmp_path):
    from PIL import Image

    Image.new("RGB", (8, 8), "red").save(tmp_path / "tiny.png")
    Image.new("L", (300, 200), 128).save(tmp_path / "grey.png")
    Image.new("RGBA", (300, 200), (0, 0, 0, 0)).save(tmp_path / "transparent.png")
    Image.new("RGB", (6000, 300), "blue").save(tmp_path / "panorama.jpg")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    r = imagevars.run(["detect"], tmp_path, workers=1, progress=False)
    df = r.to_pandas()
    assert len(df) == 5
    errors = df[df["error"].notna()]
    assert errors["source"].map(lambda s: Path(s).name).tolist() == ["broken.jpg"]
    ok = df[df["error"].isna()]
    assert ok["detect_n_objects"].notna().all() and (ok["detect_person_any"] >= 0).all()


def test_bad_parameters():
    with pytest.raises(ValueError, match="threshold"):
        DetectTask(threshold=1.5)


def test_cli_detect_draws(tmp_path, photos, capsys):
    from PIL import Image

    from imagevars.cli import main

    out = tmp_path / "boxes.jpg"
    assert main(["detect", str(photos / "astronaut.png"), "--top", "3", "--draw", str(out)]) == 0
    text = capsys.readouterr().out
    assert "person" in text.splitlines()[1] and "P(at least one person)" in text
    drawn = np.asarray(Image.open(out).convert("RGB")).astype(int)
    original = np.asarray(Image.open(photos / "astronaut.png").convert("RGB")).astype(int)
    assert drawn.shape == original.shape
    assert np.abs(drawn - original).max() > 100  # boxes were drawn


def test_long_format_one_row_per_object(photos, detector):
    r = imagevars.run([DetectTask(long=True, threads=2)], photos, workers=0, progress=False)
    df = r.to_pandas()
    assert df.columns[:5].tolist() == ["source", "frame", "time_s", "object", "error"]
    coffee = df[df["source"].str.endswith("coffee.png")]
    want = objects(
        nms(detector.predict(_photo_from_file(photos / "coffee.png")[None])[0], 0.5), 600, 400, COCO_LABELS, 0.3
    )
    assert coffee["object"].tolist() == list(range(len(want)))
    assert coffee["detect_label"].tolist() == [o["label"] for o in want]
    np.testing.assert_allclose(coffee["detect_x2"], [o["x2"] for o in want], rtol=1e-6)
    assert r.provenance["tasks"][0]["params"]["long"] is True


def _photo_from_file(path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB").resize((512, 512), Image.Resampling.BILINEAR), np.uint8)


# ---------------------------------------------------------------------------------- hub detectors
@pytest.fixture(scope="module")
def tiny_rtdetr(tmp_path_factory):
    """A tiny randomly initialised RT-DETR with COCO's labels, saved as a hub snapshot would be."""
    transformers = pytest.importorskip("transformers")
    import torch

    torch.manual_seed(0)
    backbone = transformers.RTDetrResNetConfig(
        embedding_size=8,
        hidden_sizes=[8, 8, 16, 16],
        depths=[1, 1, 1, 1],
        layer_type="basic",
        out_features=["stage2", "stage3", "stage4"],
    )
    config = transformers.RTDetrConfig(
        backbone_config=backbone,
        d_model=16,
        encoder_hidden_dim=16,
        encoder_in_channels=[8, 16, 16],
        encoder_ffn_dim=16,
        decoder_ffn_dim=16,
        decoder_in_channels=[16, 16, 16],
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        decoder_layers=1,
        encoder_layers=1,
        num_queries=20,
        num_denoising=0,
        anchor_image_size=[64, 64],
        id2label=dict(enumerate(COCO_LABELS)),
        label2id={c: i for i, c in enumerate(COCO_LABELS)},
    )
    folder = tmp_path_factory.mktemp("tiny-rtdetr")
    transformers.RTDetrForObjectDetection(config).save_pretrained(folder)
    transformers.RTDetrImageProcessor(size={"height": 64, "width": 64}).save_pretrained(folder)
    return folder


def test_hub_detector_gives_the_same_columns(tiny_rtdetr, photos):
    bundled = imagevars.run(["detect"], photos, workers=0, progress=False)
    hub = imagevars.run([DetectTask(model=str(tiny_rtdetr))], photos, workers=0, progress=False)
    assert hub.columns == bundled.columns
    df = hub.to_pandas()
    assert df["error"].isna().all() and df["detect_top1_label"].isin(COCO_LABELS).all()
    assert (df["detect_top1_score"] >= df["detect_top2_score"]).all()
    task = hub.provenance["tasks"][0]
    assert task["params"]["model"] == str(tiny_rtdetr) and task["hub"]["architecture"] == "RTDetrForObjectDetection"


def test_hub_detector_long_format_boxes_in_original_pixels(tiny_rtdetr, photos):
    r = imagevars.run(
        [DetectTask(model=str(tiny_rtdetr), long=True, threshold=0.0)], photos / "coffee.png", workers=0, progress=False
    )
    df = r.to_pandas()
    assert len(df) == 20  # every query of the tiny model, as threshold is 0
    assert df["detect_x2"].between(0, 600).all() and df["detect_y2"].between(0, 400).all()
    assert (df["detect_x1"] <= df["detect_x2"]).all() and df["object"].tolist() == list(range(20))


def test_hub_detector_offline_error_says_how_to_get_it(monkeypatch):
    pytest.importorskip("transformers")
    monkeypatch.setenv("IMAGEVARS_OFFLINE", "1")
    with pytest.raises(RuntimeError, match=r"not in the cache.*run once with internet"):
        DetectTask(model="rtdetr-r18")
    with pytest.raises(RuntimeError, match="cannot load the detector 'no-owner/no-such-model'"):
        DetectTask(model="hf:no-owner/no-such-model")


def test_unknown_detector_name():
    with pytest.raises(KeyError, match="no detector 'yolo-v99'"):
        DetectTask(model="yolo-v99")
