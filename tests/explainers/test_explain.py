"""Explanations: SHAP additivity on the bundled model, the randomisation sanity check, Grad-CAM,
the per-image table, the command line and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

pytest.importorskip("shap")
pytest.importorskip("captum")

import imagevars  # noqa: E402
from imagevars.explainers import explain, randomization_check, randomized_copy, rank_correlation  # noqa: E402
from imagevars.models.registry import get_card  # noqa: E402
from imagevars.train import Classifier  # noqa: E402


@pytest.fixture(scope="module")
def bundled():
    torch.set_num_threads(2)
    return imagevars.create_model("mnist-cnn", pretrained=True)


@pytest.fixture(scope="module")
def deep(bundled, mnist):
    (tx, _), (vx, vy) = mnist
    return explain(bundled, vx[:6], background=tx[:5000], n_background=20, seed=3, y_true=vy[:6])


@pytest.mark.parametrize("output", ["probability", "logit"])
def test_deep_shap_values_add_up_to_output_minus_background_mean(bundled, mnist, output):
    (tx, _), (vx, _) = mnist
    e = explain(bundled, vx[:4], background=tx[:20], n_background=20, output=output)
    assert e.values.shape == (4, 28, 28, 1, 10)
    # f(x) and E[f(background)] computed independently, through the model's own (reordered) forward
    if output == "probability":
        fx, fb = bundled.predict(vx[:4]), bundled.predict(tx[:20]).mean(0)
    else:
        with torch.no_grad():
            fx = bundled.module(torch.from_numpy(np.array(vx[:4])).float().div(255).unsqueeze(1)).numpy()
            fb = bundled.module(torch.from_numpy(np.array(tx[:20])).float().div(255).unsqueeze(1)).numpy().mean(0)
    gap = np.abs(e.values.sum((1, 2, 3)) - (fx - fb))
    assert gap.max() < 1e-3
    np.testing.assert_allclose(e.base_values, fb, atol=1e-5)


def test_randomised_model_gives_different_explanations(bundled, mnist):
    """Adebayo et al. (2018): maps of a re-initialised model must not match the trained model's."""
    (tx, _), (vx, _) = mnist
    r = randomization_check(bundled, vx[:6], method="deep", background=tx[:10])
    assert r.shape == (6,)
    assert np.median(r) < 0.5
    # the check can fail: the same model against itself correlates perfectly
    e = explain(bundled, vx[:2], background=tx[:10])
    assert rank_correlation(e.values[0], e.values[0].copy()) == pytest.approx(1.0)


def test_randomized_copy_leaves_the_original_alone(bundled):
    before = bundled.module.dense.weight.detach().clone()
    r = randomized_copy(bundled, seed=1)
    assert torch.equal(bundled.module.dense.weight, before)
    assert not torch.equal(r.module.dense.weight, before)


def test_rank_correlation_handles_ties():
    from scipy.stats import spearmanr

    a = np.array([0, 0, 1, 2, 2, 2, 5.0])
    b = np.array([1, 0, 0, 3, 2, 2, 1.0])
    assert rank_correlation(a, b) == pytest.approx(spearmanr(a, b).statistic)


def test_gradcam_maps_are_nonnegative_and_follow_the_strokes(bundled, mnist):
    (_, _), (vx, vy) = mnist
    e = explain(bundled, vx[:12], method="gradcam", y_true=vy[:12])
    assert e.values.shape == (12, 28, 28, 1, 10) and e.base_values is None
    assert (e.values >= 0).all() and e.values.max() > 0
    t = e.to_table().to_pandas()
    assert t["explain_base"].isna().all() and t["explain_additivity_gap"].isna().all()
    # a trained digit model looks at the digit: its evidence lies on ink more than the ink's area
    assert t["explain_ink_lift"].median() > 1.0


def test_table_rows_and_identities(deep):
    t = deep.to_table()
    df = t.to_pandas()
    assert list(df.columns[:4]) == ["source", "frame", "time_s", "error"]
    assert len(df) == 6 and df["error"].isna().all() and df["source"].tolist()[0] == "image:0"
    top = deep.probabilities.argmax(1)
    assert df["explain_class_id"].tolist() == top.tolist()
    assert df["explain_class"].tolist() == [deep.labels[c] for c in top]
    assert (df["explain_correct"] == (df["explain_label"] == df["explain_class"])).all()
    # additivity makes the explained margin the margin beyond the background's
    second = np.argsort(-deep.probabilities, 1)[:, 1]
    expect = df["explain_margin"] - (deep.base_values[top] - deep.base_values[second])
    np.testing.assert_allclose(df["explain_explained_margin"], expect, atol=1e-4)
    np.testing.assert_allclose(df["explain_pos_share_ink"] + df["explain_pos_share_background"], 1.0)
    ink = (deep.pixels.mean(-1) >= 0.5).mean((1, 2))
    np.testing.assert_allclose(df["explain_ink_area"], ink)
    assert (df["explain_additivity_gap"] < 1e-3).all()


def test_background_draw_is_seeded_and_recorded(bundled, mnist, deep):
    (tx, _), (vx, _) = mnist
    bg = deep.provenance["background"]
    assert bg["n"] == 20 and bg["seed"] == 3 and bg["pool"] == 5000 and len(bg["indices"]) == 20
    again = explain(bundled, vx[:1], background=tx[:5000], n_background=20, seed=3, targets="top")
    other = explain(bundled, vx[:1], background=tx[:5000], n_background=20, seed=4, targets="top")
    assert again.provenance["background"]["indices"] == bg["indices"]
    assert other.provenance["background"]["indices"] != bg["indices"]
    assert again.values.shape == (1, 28, 28, 1, 1) and again.targets[0, 0] == deep.probabilities[0].argmax()
    top = again.targets[0, 0]  # deep explained all classes, so its slot k is class k
    np.testing.assert_allclose(again.values[0, ..., 0], deep.values[0, ..., top], atol=1e-6)
    model = deep.provenance["tasks"][0]["model"]
    assert model["weights_sha256"] == get_card("mnist-cnn").weights.sha256
    assert len(model["parameters_sha256"]) == 64


def test_parameters_hash_tells_an_untrained_model_apart(bundled, mnist):
    (tx, _), (vx, _) = mnist
    untrained = imagevars.create_model("mnist-cnn")
    a = explain(bundled, vx[:1], method="gradcam").provenance["tasks"][0]["model"]["parameters_sha256"]
    b = explain(untrained, vx[:1], method="gradcam").provenance["tasks"][0]["model"]["parameters_sha256"]
    assert a != b


def test_a_users_saved_model_is_explained_additively(tmp_path, mnist):
    (tx, _), (vx, _) = mnist
    torch.manual_seed(0)
    folder = imagevars.create_model("mnist-fast-cnn").save(tmp_path / "m", onnx=False)
    e = explain(str(folder), vx[:2], background=tx[:8], output="logit")
    gap = np.abs(e.values.sum((1, 2, 3)) - (e.outputs - e.base_values))
    assert gap.max() < 1e-3


# ---------------------------------------------------------------------------------- bad input
def test_wrong_image_size_is_refused_with_the_fix(bundled):
    with pytest.raises(ValueError, match=r"28x28.*Resize"):
        explain(bundled, np.zeros((2, 32, 32), np.uint8), method="gradcam")


def test_empty_background_and_no_images(bundled, mnist):
    (_, _), (vx, _) = mnist
    with pytest.raises(ValueError, match="background set is empty"):
        explain(bundled, vx[:2], background=np.zeros((0, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="no images"):
        explain(bundled, vx[:0], method="gradcam")


class _Rounding(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 26 * 26, 10)

    def forward(self, x):
        return self.fc(torch.round(self.conv(x)).flatten(1))  # round: zero gradient everywhere


class _Detached(_Rounding):
    def forward(self, x):
        return self.fc(self.conv(x).detach().flatten(1))


class _Functional(_Rounding):
    def forward(self, x):  # F.relu and a reused layer: invisible to DeepExplainer's module hooks
        return self.fc(F.relu(self.conv(x)).flatten(1)) + self.fc(F.relu(-self.conv(x)).flatten(1))


@pytest.mark.parametrize("module", [_Rounding, _Detached])
def test_non_differentiable_model_is_refused(module, mnist):
    (tx, _), (vx, _) = mnist
    torch.manual_seed(0)
    clf = Classifier(module(), get_card("mnist-cnn"))
    with pytest.raises(ValueError, match="not differentiable end to end"):
        explain(clf, vx[:2], background=tx[:4])


def test_hidden_operations_fail_the_additivity_check(mnist):
    (tx, _), (vx, _) = mnist
    torch.manual_seed(0)
    clf = Classifier(_Functional(), get_card("mnist-cnn"))
    with pytest.raises(ValueError, match="do not add up"):
        explain(clf, vx[:3], background=tx[:5], output="logit")
    assert explain(clf, vx[:3], background=tx[:5], method="gradient", nsamples=20).values.shape == (3, 28, 28, 1, 10)


def test_gradcam_needs_a_convolution(mnist):
    (_, _), (vx, _) = mnist
    clf = Classifier(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), get_card("mnist-cnn"))
    with pytest.raises(ValueError, match="Grad-CAM needs a convolutional layer"):
        explain(clf, vx[:2], method="gradcam")


# ---------------------------------------------------------------------------------- command line
def test_cli_lecture_figures(tmp_path, capsys):
    from imagevars.cli import main

    out = tmp_path / "shap_mnist"
    assert (
        main(["explain", "mnist-cnn", "--correct", "--background", "10", "-o", str(out), "-q", "--threads", "2"]) == 0
    )
    assert (out / "correct.png").stat().st_size > 10_000 and not (out / "incorrect.png").exists()
    df = imagevars.Results.read(out / "explanations.parquet").to_pandas()
    assert len(df) == 10 and df["explain_correct"].all()
    assert sorted(df["explain_label"]) == [str(d) for d in range(10)]
    assert df["source"].str.startswith("mnist:test:").all()
    assert "correct" in capsys.readouterr().out


def test_cli_folder_gradcam_with_a_broken_file(tmp_path, mnist):
    from PIL import Image

    from imagevars.cli import main

    (_, _), (vx, _) = mnist
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):  # larger and RGB: resized and made grey for the model
        Image.fromarray(vx[i]).resize((56, 56)).convert("RGB").save(folder / f"d{i}.png")
    (folder / "a_broken.png").write_bytes(b"not a png")
    out = tmp_path / "cams"
    assert main(["explain", "mnist-cnn", str(folder), "--method", "gradcam", "-o", str(out), "-q"]) == 0
    r = imagevars.Results.read(out / "explanations.parquet")
    df = r.to_pandas()
    assert df["source"].map(lambda s: s.rsplit("/", 1)[-1]).tolist() == ["a_broken.png", "d0.png", "d1.png", "d2.png"]
    assert df["error"].notna().tolist() == [True, False, False, False]
    assert "a_broken.png" in df["error"][0]
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["00001_d0.png", "00002_d1.png", "00003_d2.png"]
    assert r.provenance["tasks"][0]["params"]["method"] == "gradcam"
