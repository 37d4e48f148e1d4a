"""`classify`: the bundled EfficientNet-Lite0 on real photos with known content, offline."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import imagevars
from imagevars.tasks.classify import ClassifyTask, class_column

CATS = {"tiger cat", "Egyptian cat", "tabby"}


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    import skimage.data as data

    folder = tmp_path_factory.mktemp("photos")
    for name in ("chelsea", "coffee", "camera", "rocket"):
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.jpg", quality=92)
    Image.fromarray(data.chelsea()).rotate(0).save(folder / "chelsea.png")  # same cat, lossless
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not really")
    return folder


def test_real_photos_get_their_imagenet_classes(photos):
    task = ClassifyTask(classes=["Egyptian cat", "tabby", "tiger cat", "espresso"])
    df = imagevars.run([task], photos, workers=0, progress=False).to_pandas().set_index("source")
    row = lambda name: df.loc[str(photos / name)]  # noqa: E731
    assert row("coffee.jpg")["classify_top1_label"] == "espresso" and row("coffee.jpg")["classify_top1_score"] > 0.8
    assert row("camera.jpg")["classify_top1_label"] == "tripod"  # the cameraman's tripod
    assert row("rocket.jpg")["classify_top1_label"] in {"missile", "projectile", "space shuttle"}
    for cat in ("chelsea.jpg", "chelsea.png"):
        assert row(cat)["classify_top1_label"] in CATS
        assert row(cat)[["classify_p_egyptian_cat", "classify_p_tabby", "classify_p_tiger_cat"]].sum() > 0.8
    assert row("coffee.jpg")["classify_p_espresso"] == row("coffee.jpg")["classify_top1_score"]
    scores = df.loc[df["error"].isna(), [f"classify_top{k}_score" for k in range(1, 6)]].to_numpy()
    assert (np.diff(scores, axis=1) <= 0).all() and (scores.sum(1) <= 1 + 1e-6).all()
    assert df.loc[str(photos / "broken.jpg"), "error"] and df["classify_top1_label"].isna().sum() == 1


def test_provenance_names_the_model_and_its_weights(photos):
    res = imagevars.run([ClassifyTask(top=2)], photos / "coffee.jpg", workers=0, progress=False)
    task = res.provenance["tasks"][0]
    assert task["model"] == "efficientnet-lite0" and task["params"] == {
        "model": "efficientnet-lite0",
        "top": 2,
        "classes": [],
    }
    assert task["weights_sha256"] == imagevars.get_card("efficientnet-lite0").weights.sha256
    assert [c for c in res.columns if c.startswith("classify_")] == [
        "classify_top1_label",
        "classify_top1_score",
        "classify_top2_label",
        "classify_top2_score",
    ]


def test_bad_settings_say_what_to_do():
    with pytest.raises(ValueError, match="no class 'egyptian kat'"):
        ClassifyTask(classes=["egyptian kat"])
    with pytest.raises(ValueError, match="close: .*Egyptian cat"):
        ClassifyTask(classes=["cat"])
    with pytest.raises(ValueError, match="no image classifier 'centernet-mbv3-coco'"):
        ClassifyTask(model="centernet-mbv3-coco")
    with pytest.raises(ValueError, match="top must be between 0 and 20"):
        ClassifyTask(top=50)
    assert class_column("crane (n02012849)") == "crane_n02012849"


def test_the_cli_takes_the_classes(photos, tmp_path):
    from imagevars.cli import main

    out = tmp_path / "labels.parquet"
    assert (
        main(
            [
                "run",
                "classify",
                str(photos / "coffee.jpg"),
                "--classes",
                "espresso,cup",
                "-q",
                "--workers",
                "0",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    df = imagevars.Results.read(out).to_pandas()
    assert df["classify_p_espresso"].item() > 0.8 and df["classify_p_cup"].item() < 0.2


@pytest.fixture(scope="module")
def tiny_vit(tmp_path_factory):
    """A tiny random ViT image classifier saved as save_pretrained writes it (offline; the weights draw noise)."""
    from hubmodels import save_tiny_vit  # tests/helpers

    return save_tiny_vit(tmp_path_factory.mktemp("tiny-vit"), ["professional", "amateur", "screenshot"])


def test_a_hub_classifier_by_folder_and_by_repo_id_offline(photos, tiny_vit, offline_hub):
    import torch
    import transformers

    from imagevars.testing import put_in_hub_cache

    local = (
        imagevars.run(
            [ClassifyTask(str(tiny_vit), top=2, classes=["screenshot"])],
            photos / "coffee.jpg",
            workers=0,
            progress=False,
        )
        .to_pandas()
        .iloc[0]
    )
    from imagevars.io.decode import decode
    from imagevars.models.efficientnet import center_crop

    decoded = decode((photos / "coffee.jpg").read_bytes(), "coffee.jpg", max_side=64)  # as the task decodes it
    crop = center_crop(decoded.rgb, 32)
    processor = transformers.ViTImageProcessor.from_pretrained(tiny_vit)
    with torch.no_grad():
        want = torch.softmax(
            transformers.ViTForImageClassification.from_pretrained(tiny_vit)(
                **processor(images=[crop], return_tensors="pt")
            ).logits,
            -1,
        )[0].numpy()
    order = np.argsort(-want)
    labels = ("professional", "amateur", "screenshot")
    assert (
        local["classify_top1_label"] == labels[order[0]] and abs(local["classify_top1_score"] - want[order[0]]) < 1e-5
    )
    assert abs(local["classify_p_screenshot"] - want[2]) < 1e-5
    commit = "89abcdef0123456789abcdef0123456789abcdef"
    put_in_hub_cache(tiny_vit, "someone/tiny-vit", offline_hub, commit)
    hub = imagevars.run([ClassifyTask("hf:someone/tiny-vit", top=2)], photos / "coffee.jpg", workers=0, progress=False)
    assert hub.to_pandas()["classify_top1_label"].item() == local["classify_top1_label"]
    assert hub.provenance["tasks"][0]["hub"]["commit"] == commit
    with pytest.raises(Exception, match="downloads are off"):
        ClassifyTask("hf:someone/not-cached")
