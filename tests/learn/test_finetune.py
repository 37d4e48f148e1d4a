"""`imagevars learn --finetune`: the bundled network trained further on class folders of real images."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import imagevars
from imagevars.cli import main


@pytest.fixture(scope="module")
def digit_folders(tmp_path_factory, mnist):
    """Class folders of real handwritten 3s and 8s (their strokes look alike: ImageNet knows neither)."""
    (tx, ty), _ = mnist
    root = tmp_path_factory.mktemp("folders")
    for digit, name in ((3, "three"), (8, "eight")):
        (root / name).mkdir()
        for k, i in enumerate(np.flatnonzero(ty == digit)[:40]):
            Image.fromarray(tx[i]).convert("RGB").resize((84, 84)).save(root / name / f"{k}.png")
    (root / "three" / "broken.png").write_bytes(b"not a png")
    return root


def test_finetuning_learns_the_classes_and_the_saved_onnx_applies_at_scale(digit_folders, tmp_path, capsys):
    out = tmp_path / "ft"
    assert (
        main(
            [
                "learn",
                str(digit_folders),
                "--target",
                "digit",
                "--finetune",
                "efficientnet-lite0",
                "--epochs",
                "3",
                "--batch-size",
                "8",
                "--learning-rate",
                "1e-3",
                "-q",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "digit: accuracy" in printed and "1 image(s) could not be read" in printed
    report = json.loads((out / "report.json").read_text())
    r = report["targets"]["digit"]
    assert r["classes"] == ["eight", "three"] and r["n_test"] == 16 and r["n_train"] + r["n_validation"] == 64
    assert r["metrics"]["accuracy"]["mean"] >= 0.9 > r["baseline"]["accuracy"]["mean"]
    assert r["training"]["epochs_run"] <= 3 and len(r["training"]["history"]["val_loss"]) == r["training"]["epochs_run"]
    assert "took no part in training" in (out / "report.md").read_text()
    card = json.loads((out / "card.json").read_text())
    assert card["labels"] == ["eight", "three"] and card["config"]["finetuned_from"] == "efficientnet-lite0"
    assert card["weights"]["sha256"] == imagevars.io.files.sha256_file(out / "model.onnx")
    # applied with `run classify`: the held-out images get the predictions the report scored
    scores = tmp_path / "scores.parquet"
    assert (
        main(
            [
                "run",
                "classify",
                str(digit_folders),
                "--model",
                str(out),
                "--classes",
                "three",
                "-q",
                "--workers",
                "0",
                "-o",
                str(scores),
            ]
        )
        == 0
    )
    table = imagevars.Results.read(scores)
    df = table.to_pandas()
    good = df[df["error"].isna()].copy()
    good["truth"] = ["three" if "/three/" in s else "eight" for s in good["source"]]
    assert len(good) == 80 and (good["classify_top1_label"] == good["truth"]).mean() >= 0.9
    assert "classify_top3_label" not in df  # two classes: two ranks, though the default is five
    assert np.allclose(good["classify_top1_score"] + good["classify_top2_score"], 1, atol=1e-5)
    three = np.where(good["classify_top1_label"] == "three", good["classify_top1_score"], good["classify_top2_score"])
    assert np.allclose(good["classify_p_three"], three)
    assert table.provenance["tasks"][0]["weights_sha256"] == card["weights"]["sha256"]


def test_what_finetuning_cannot_do_is_refused(digit_folders, tmp_path, capsys):
    args = ["learn", str(digit_folders), "--finetune", "efficientnet-lite0", "-q", "-o", str(tmp_path / "x")]
    assert main([*args, "--split", "year < 2015"]) == 2
    assert "--split belongs to the linear probe" in capsys.readouterr().err
    assert main(["learn", str(digit_folders), "--finetune", "mnist-cnn", "-q", "-o", str(tmp_path / "x")]) == 2
    assert "fine-tuning starts from efficientnet-lite0" in capsys.readouterr().err
    labels = tmp_path / "numbers.csv"
    pd.DataFrame(
        {"path": [str(p) for p in sorted(digit_folders.rglob("[0-9]*.png"))], "price": np.linspace(1, 2, 80)}
    ).to_csv(labels, index=False)
    assert (
        main(
            [
                "learn",
                str(labels),
                "--target",
                "price",
                "--finetune",
                "efficientnet-lite0",
                "-q",
                "-o",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "fine-tuning learns classes, and this column holds numbers" in capsys.readouterr().err


def test_a_hub_classifier_is_finetuned_to_new_classes_and_applies_from_its_folder(digit_folders, tmp_path, offline_hub):
    from hubmodels import tiny_vit  # tests/helpers

    tiny_vit(tmp_path / "vit", offline_hub, repo="someone/tiny-vit-classifier", classes=5)
    out = tmp_path / "ft-vit"
    assert (
        main(
            [
                "learn",
                str(digit_folders),
                "--finetune",
                "hf:someone/tiny-vit-classifier",
                "--epochs",
                "2",
                "--batch-size",
                "8",
                "-q",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    card = json.loads((out / "card.json").read_text())
    assert card["labels"] == ["eight", "three"] and card["config"]["format"] == "transformers"
    assert card["weights"]["sha256"] == imagevars.io.files.sha256_file(out / "model.safetensors")
    r = json.loads((out / "report.json").read_text())["targets"]["class"]
    assert r["training"]["epochs_run"] == 2 and r["n_test"] == 16
    scores = tmp_path / "s.parquet"
    assert (
        main(["run", "classify", str(digit_folders), "--model", str(out), "-q", "--workers", "0", "-o", str(scores)])
        == 0
    )
    df = imagevars.Results.read(scores).to_pandas()
    good = df[df["error"].isna()]
    assert len(good) == 80 and set(good["classify_top1_label"]) <= {"eight", "three"}
    # the folder applied gives the test images the probabilities the fine-tuned network gave them in the report
    from imagevars.learn.finetune import finetune
    from imagevars.learn.labels import read_labels

    again = finetune(
        digit_folders,
        None,
        tmp_path / "again",
        backbone="hf:someone/tiny-vit-classifier",
        epochs=2,
        batch_size=8,
        progress=False,
    )
    held = again.results["class"]
    sources = [s for s in read_labels(digit_folders, [])["source"] if not s.endswith("broken.png")]
    applied = imagevars.run(
        [imagevars.tasks.ClassifyTask(str(tmp_path / "again"), classes=["eight", "three"])],
        [sources[i] for i in held["rows"]],
        workers=0,
        progress=False,
    ).to_pandas()
    assert np.allclose(applied[["classify_p_eight", "classify_p_three"]], held["oof"], atol=1e-4)
    (out / "model.safetensors").write_bytes(b"changed")
    assert (
        main(["run", "classify", str(digit_folders), "--model", str(out), "-q", "-o", str(tmp_path / "t.parquet")]) == 2
    )


def test_a_grouped_split_keeps_each_group_on_one_side_and_every_class_on_each():
    from imagevars.learn.finetune import _split

    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(30), 6)
    y = np.where(rng.random(180) < 0.4, "pro", "amateur")
    train, val, held = _split(y, 0.2, seed=0, groups=groups)
    sets = [set(groups[i]) for i in (train, val, held)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert len(train) + len(val) + len(held) == 180 and all(set(y[i]) == {"pro", "amateur"} for i in (train, val, held))
    with pytest.raises(ValueError, match="3 groups cannot be split 5 ways"):
        _split(y[:18], 0.2, seed=0, groups=groups[:18])
