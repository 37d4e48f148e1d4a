"""Open-vocabulary detection (detect --classes) on a tiny random OWLv2 saved as a hub folder and loaded by the
user's code path; the letterbox and its inverse on constructed images."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skimage.data as data
from PIL import Image

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def owl(tmp_path_factory):
    from imagevars.models.open_vocab import save_random_owlv2

    return str(save_random_owlv2(tmp_path_factory.mktemp("tiny-owlv2")))


def test_boxes_and_scores_equal_transformers_own_post_processing(owl):
    """Each box gets the class it scores highest on; boxes, scores and classes equal the processor's own
    post-processing of the same forward pass (an independent reading of the model's outputs)."""
    from types import SimpleNamespace

    import torch
    import transformers

    from imagevars.models.open_vocab import OpenVocabDetector
    from imagevars.tasks.detect import prepare

    det = OpenVocabDetector(owl, "cat, price tag, shopping bag")
    rgb = data.chelsea()
    img, _, _ = prepare(SimpleNamespace(rgb=rgb, width=rgb.shape[1], height=rgb.shape[0]), det.side, pad=True)
    ours = det.predict(img[None])[0]
    proc = transformers.AutoProcessor.from_pretrained(owl)
    model = transformers.AutoModelForZeroShotObjectDetection.from_pretrained(owl).eval()
    with torch.no_grad():
        out = model(**proc(text=[["cat", "price tag", "shopping bag"]], images=[img], return_tensors="pt"))
    ref = proc.post_process_grounded_object_detection(out, threshold=0.0, target_sizes=[(det.side, det.side)])[0]
    order = np.argsort(-ref["scores"].numpy(), kind="stable")[: len(ours)]
    assert len(ours) == min(100, len(ref["scores"]))
    assert np.allclose(ours[:, 4], ref["scores"].numpy()[order], atol=1e-6)
    assert np.array_equal(ours[:, 5].astype(int), ref["labels"].numpy()[order])
    assert np.allclose(ours[:, :4], ref["boxes"].numpy()[order], atol=1e-3)


def test_a_run_gives_the_named_classes_columns(owl, tmp_path):
    import imagevars
    from imagevars.cli import main

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(data.chelsea()).save(photos / "cat.png")
    Image.fromarray(data.coffee()).save(photos / "coffee.jpg")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    out = tmp_path / "counts.parquet"
    assert (
        main(
            [
                "run",
                "detect",
                str(photos),
                "--classes",
                "cat, price tag",
                "--model",
                owl,
                "--threshold",
                "0.0",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    t = pd.read_parquet(out)
    assert {"detect_count_cat", "detect_count_price_tag", "detect_area_cat", "detect_top1_label"} <= set(t.columns)
    assert not any(c.startswith("detect_person") or c == "detect_count_dog" for c in t.columns)
    good = t[t["error"].isna()]
    assert len(good) == 2 and t["error"].notna().sum() == 1
    assert set(good["detect_top1_label"]) <= {"cat", "price tag"}
    assert good["detect_area_cat"].between(0, 1).all()
    prov = imagevars.Results.read(out).provenance["tasks"][0]
    assert prov["params"]["classes"] == ["cat", "price tag"] and prov["hub"]["classes"] == ["cat", "price tag"]

    long = tmp_path / "boxes.parquet"
    assert (
        main(
            [
                "run",
                "detect",
                str(photos / "cat.png"),
                "--classes",
                "cat, price tag",
                "--model",
                owl,
                "--long",
                "--threshold",
                "0.0",
                "-o",
                str(long),
            ]
        )
        == 0
    )
    boxes = pd.read_parquet(long)
    h, w = data.chelsea().shape[:2]
    assert len(boxes) > 1 and boxes["detect_label"].isin(["cat", "price tag"]).all()
    assert boxes["detect_x2"].le(w).all() and boxes["detect_y2"].le(h).all()  # nothing in the grey padding


def test_the_letterbox_and_its_inverse():
    """A white block in a wide image: letterboxed, it sits at the scaled place on grey; a box around it in grid
    units maps back to the block's pixels, and a box over the whole image covers an area share of 1."""
    from types import SimpleNamespace

    from imagevars.tasks.detect import prepare, to_grid

    rgb = np.zeros((100, 200, 3), np.uint8)
    rgb[20:60, 100:180] = 255
    img, w, h = prepare(SimpleNamespace(rgb=rgb, width=200, height=100), 64, pad=True)
    assert img.shape == (64, 64, 3) and (img[40:, :] == 128).all()  # grey below the 64x32 image
    assert img[10, 40].min() == 255 and img[10, 20].max() == 0
    det = np.array([[32, 6.4, 57.6, 19.2, 0.9, 0], [-5, -5, 70, 70, 0.8, 0], [10, 40, 30, 60, 0.7, 0]], np.float32)
    grid, sx, sy, share = to_grid(det, w, h, 64, pad=True)
    assert len(grid) == 2  # the third box lies wholly in the grey padding below the image
    assert sx == sy == 200 / 64 and share == pytest.approx(0.5)
    assert np.allclose(grid[0, :4] * sx, [100, 20, 180, 60], atol=1e-3)
    assert np.allclose(grid[1, :4] * sx, [0, 0, 200, 100], atol=1e-3)


def test_bad_requests_are_named(owl, tmp_path):
    from imagevars.models.clip import save_random_clip
    from imagevars.models.open_vocab import OpenVocabError
    from imagevars.tasks.detect import DetectTask

    with pytest.raises(ValueError, match="open-vocabulary detector"):
        DetectTask(model="centernet-mbv3-coco", classes="logo")
    with pytest.raises(ValueError, match="finds the classes you name"):
        DetectTask(model="owlv2-base")
    with pytest.raises(ValueError, match="named twice"):
        DetectTask(model=owl, classes="logo, Logo")
    with pytest.raises(ValueError, match="separated by commas"):
        DetectTask(model=owl, classes=["logo", " "])
    clip = save_random_clip(
        tmp_path / "clip",
        text=dict(
            hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=24
        ),
        vision=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, patch_size=8),
        projection_dim=8,
        image_side=32,
    )
    with pytest.raises(OpenVocabError, match="not an open-vocabulary"):
        DetectTask(model=str(clip), classes="logo")


def test_carded_open_vocabulary_detectors_are_pinned():
    from imagevars.models.registry import get_card

    for name in ("owlv2-base", "grounding-dino-tiny"):
        card = get_card(name)
        assert card.task == "detect" and card.config["open_vocabulary"] and len(card.weights.revision) == 40
        assert card.license == "Apache-2.0"


def test_grounding_dino_scores_each_class_over_its_own_tokens(tmp_path):
    """Each class's tokens in the prompt decode back to the class; a box's class score is the mean of the
    sigmoid token scores over that span (the original's positive map), read from a direct forward pass."""
    from types import SimpleNamespace

    import torch
    import transformers

    from imagevars.models.open_vocab import OpenVocabDetector, save_random_grounding_dino
    from imagevars.tasks.detect import prepare

    folder = str(save_random_grounding_dino(tmp_path / "gdino"))
    det = OpenVocabDetector(folder, ["Cat", "price tag"])
    assert det.prompt == "cat. price tag."
    ids = det.processor.tokenizer(det.prompt)["input_ids"]
    assert [det.processor.tokenizer.decode(ids[a:b]).replace(" ", "") for a, b in det.spans] == ["cat", "pricetag"]
    rgb = data.astronaut()
    img, _, _ = prepare(SimpleNamespace(rgb=rgb, width=512, height=512), det.side, pad=True)
    ours = det.predict(img[None])[0]
    proc = transformers.AutoProcessor.from_pretrained(folder)
    model = transformers.AutoModelForZeroShotObjectDetection.from_pretrained(folder).eval()
    with torch.no_grad():
        out = model(**proc(images=[img], text=["cat. price tag."], return_tensors="pt"))
    p = torch.sigmoid(out.logits[0]).numpy()
    per_class = np.stack([p[:, 1:4].mean(1), p[:, 5:13].mean(1)], 1)  # c a t | p r i c e t a g
    order = np.argsort(-per_class.max(1), kind="stable")
    assert np.allclose(ours[:, 4], per_class.max(1)[order], atol=1e-6)
    assert np.array_equal(ours[:, 5].astype(int), per_class.argmax(1)[order])
    cx, cy, w, h = out.pred_boxes[0].numpy()[order].T
    assert np.allclose(ours[:, :4], np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1) * det.side, atol=1e-3)
