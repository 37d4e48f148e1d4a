"""`imagevars learn` end to end on real images (MNIST digits), and the measure applied with `run classify`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import imagevars
from imagevars.cli import main


@pytest.fixture(scope="module")
def labelled(tmp_path_factory, mnist):
    (tx, ty), _ = mnist
    folder = tmp_path_factory.mktemp("digits")
    rng = np.random.default_rng(0)
    appeal = {0: 0.2, 1: 0.9, 7: 0.5}  # a made-up continuous rating that follows what the image shows
    rows = []
    for digit in (0, 1, 7):
        for k, i in enumerate(np.flatnonzero(ty == digit)[:30]):
            path = folder / f"{digit}_{k}.png"
            Image.fromarray(tx[i]).save(path)
            rows.append(
                {
                    "path": str(path),
                    "digit": str(digit),
                    "writer": k % 6,
                    "appeal": appeal[digit] + float(rng.normal(scale=0.05)),
                }
            )
    (folder / "broken.png").write_bytes(b"not a png")
    rows.append({"path": str(folder / "broken.png"), "digit": "0", "writer": 0, "appeal": 0.2})
    labels = folder / "labels.csv"
    pd.DataFrame(rows).to_csv(labels, index=False)
    return labels


def test_learn_reports_cross_validated_metrics_and_the_measure_applies_at_scale(labelled, tmp_path, capsys):
    out = tmp_path / "digit-measure"
    assert (
        main(
            [
                "learn",
                str(labelled),
                "--target",
                "digit,appeal",
                "--group",
                "writer",
                "--folds",
                "3",
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
    digit = report["targets"]["digit"]
    assert digit["n"] == 90 and digit["grouped"] and digit["classes"] == ["0", "1", "7"]
    assert digit["metrics"]["accuracy"]["mean"] > 0.85 > digit["baseline"]["accuracy"]["mean"]
    assert (
        report["targets"]["appeal"]["kind"] == "number" and report["targets"]["appeal"]["metrics"]["r2"]["mean"] > 0.5
    )
    assert report["dropped"][0]["source"].endswith("broken.png")
    assert (out / "digit_confusion.png").exists() and (out / "appeal_learning_curve.png").exists()
    assert (out / "digit_reliability.png").exists() and (out / "digit_confident.png").exists()
    assert not (out / "appeal_reliability.png").exists()  # a number has no classes to be sure of
    assert "| accuracy |" in (out / "report.md").read_text()
    # the measure, applied to the same images with `run classify`
    scores = tmp_path / "scores.parquet"
    listing = tmp_path / "images.txt"
    labels = pd.read_csv(labelled)
    listing.write_text("\n".join(labels["path"]))
    assert main(["run", "classify", str(listing), "--model", str(out), "-q", "--workers", "0", "-o", str(scores)]) == 0
    table = imagevars.Results.read(scores)
    df = table.to_pandas().merge(labels.rename(columns={"path": "source"}), on="source")
    good = df[df["error"].isna()]
    assert (good["classify_digit"] == good["digit"].astype(str)).mean() > 0.95
    assert np.allclose(good[["classify_digit_p_0", "classify_digit_p_1", "classify_digit_p_7"]].sum(axis=1), 1)
    assert np.corrcoef(good["classify_appeal"], good["appeal"])[0, 1] > 0.8
    task = table.provenance["tasks"][0]
    assert (
        task["measure"]["backbone"] == "efficientnet-lite0"
        and task["weights_sha256"] == task["measure"]["weights_sha256"]
    )


def test_a_refit_encodes_nothing_again(labelled, tmp_path, monkeypatch):
    from imagevars.learn import learn

    out = tmp_path / "m"
    learn(labelled, ["digit"], out, folds=3, progress=False)

    def no_encoding(*args, **kwargs):
        raise AssertionError("the features should come from the cache")

    monkeypatch.setattr("imagevars.tasks.embed.EmbedTask.__call__", no_encoding)
    again = learn(labelled, ["digit"], out, folds=3, seed=1, progress=False)
    assert again.metrics["digit"]["accuracy"] > 0.85


def test_labels_that_cannot_be_learned_say_why(labelled, tmp_path, capsys):
    labels = pd.read_csv(labelled)
    one = tmp_path / "one.csv"
    labels.assign(digit="7").to_csv(one, index=False)
    assert main(["learn", str(one), "--target", "digit", "--folds", "3", "-q", "-o", str(tmp_path / "x")]) == 2
    assert "every image has the same label" in capsys.readouterr().err
    assert main(["learn", str(labelled), "--target", "colour", "-q", "-o", str(tmp_path / "x")]) == 2
    assert "has no column(s) colour" in capsys.readouterr().err
    elsewhere = tmp_path / "relative.csv"
    labels.assign(path=[f"photos/{i}.png" for i in range(len(labels))]).to_csv(elsewhere, index=False)
    assert main(["learn", str(elsewhere), "--target", "digit", "-q", "-o", str(tmp_path / "x")]) == 2
    assert "none of the 91 labelled images could be read" in (err := capsys.readouterr().err)
    assert "read as written, from the current folder" in err


def test_an_out_of_time_split_from_the_command_line(labelled, tmp_path, capsys):
    out = tmp_path / "split"
    assert main(["learn", str(labelled), "--target", "digit", "--split", "writer < 4", "-q", "-o", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())["targets"]["digit"]
    assert report["n_train"] == 60 and report["n_test"] == 30 and report["metrics"]["accuracy"]["mean"] > 0.8
    assert "tested once on the other 30" in (out / "report.md").read_text()
    capsys.readouterr()
    assert main(["learn", str(labelled), "--target", "digit", "--split", "colour == 'red'", "-q", "-o", str(out)]) == 2
    assert "--split \"colour == 'red'\": cannot be evaluated" in capsys.readouterr().err


def test_tabular_columns_are_compared_with_the_image(labelled, tmp_path, capsys):
    """The rating follows the digit shown; the writer and a made-up pen colour carry nothing of it."""
    labels = pd.read_csv(labelled)
    labels["pen"] = np.where(np.arange(len(labels)) % 2, "blue", "black")
    with_pen = tmp_path / "labels.csv"
    labels.to_csv(with_pen, index=False)
    out = tmp_path / "tab"
    assert (
        main(
            [
                "learn",
                str(with_pen),
                "--target",
                "appeal",
                "--tabular",
                "writer,pen",
                "--folds",
                "3",
                "-q",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert "tabular only: r2" in capsys.readouterr().out
    r = json.loads((out / "report.json").read_text())["targets"]["appeal"]
    assert r["compare"]["tabular only"]["r2"]["mean"] < 0.15
    assert r["compare"]["image + tabular"]["r2"]["mean"] > 0.5 and r["metrics"]["r2"]["mean"] > 0.5
    assert "*tabular only*" in (out / "report.md").read_text()
    assert main(["learn", str(with_pen), "--target", "appeal", "--tabular", "price", "-q", "-o", str(out)]) == 2
    assert "--tabular: no column(s) price" in capsys.readouterr().err


def test_a_backbone_learn_cannot_read_is_refused(labelled, tmp_path, capsys):
    assert (
        main(["learn", str(labelled), "--target", "digit", "--features", "mnist-cnn", "-q", "-o", str(tmp_path)]) == 2
    )
    assert (
        "--features mnist-cnn: no backbone 'mnist-cnn' with features; registered: efficientnet-lite0"
        in capsys.readouterr().err
    )


def test_a_hub_backbone_is_learned_from_and_applied_at_the_commit_it_learned_from(labelled, tmp_path, offline_hub):
    from hubmodels import tiny_vit  # tests/helpers
    from imagevars.models.linear_probe import load

    tiny_vit(tmp_path / "tiny-vit", offline_hub)
    out = tmp_path / "m"
    assert (
        main(
            [
                "learn",
                str(labelled),
                "--target",
                "digit",
                "--features",
                "hf:someone/tiny-vit",
                "--folds",
                "3",
                "-q",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    card, heads = load(out)
    backbone = card.config["backbone"]
    assert backbone.startswith("hf:someone/tiny-vit@") and len(backbone.split("@")[1]) == 40
    assert card.config["backbone_sha256"] == backbone.split("@")[1] and card.config["features"] == 16
    features = pd.read_parquet(out / "features.parquet")
    features = features[features["error"].isna()]
    scores = tmp_path / "scores.parquet"
    assert main(["run", "classify", str(labelled), "--model", str(out), "-q", "--workers", "0", "-o", str(scores)]) == 0
    got = imagevars.Results.read(scores).to_pandas().merge(features, on="source")
    want = heads[0].predict(np.stack(got["embed_vector"].map(np.asarray)))
    assert len(got) == 90 and np.allclose(
        got[["classify_digit_p_0", "classify_digit_p_1", "classify_digit_p_7"]], want, atol=1e-4
    )


def test_a_column_of_label_sets_becomes_one_yes_no_target_per_label(labelled, tmp_path):
    from imagevars.learn import learn

    shapes = {"0": "round", "1": "straight", "7": "straight;angled"}  # what each digit's strokes are, as sets
    df = pd.read_csv(labelled, dtype={"digit": str})
    df["strokes"] = df["digit"].map(shapes)
    with_sets = tmp_path / "sets.csv"
    df.to_csv(with_sets, index=False)
    report = learn(with_sets, [], tmp_path / "m", multilabel=["strokes"], folds=3, progress=False)
    assert sorted(report.results) == ["strokes_angled", "strokes_round", "strokes_straight"]
    assert all(report.metrics[t]["accuracy"] > 0.85 for t in report.results)
    assert report.results["strokes_straight"]["classes"] == ["no", "yes"]
    with pytest.raises(ValueError, match=r"has no column\(s\) shapes"):
        learn(with_sets, [], tmp_path / "m", multilabel=["shapes"], folds=3, progress=False)
