"""ACE and TCAV find a planted concept: the class is "a small red square somewhere" on random textures."""

from __future__ import annotations

import numpy as np
import pytest

from planted import dataset

pytestmark = pytest.mark.filterwarnings("ignore:Precision loss occurred")


def _red_share(patch) -> float:
    return float(((patch[..., 0] > 180) & (patch[..., 1] < 80) & (patch[..., 2] < 80)).mean())


def _blue_share(patch) -> float:
    return float(((patch[..., 2] > 180) & (patch[..., 0] < 80)).mean())


@pytest.fixture(scope="module")
def planted():
    """A small CNN (global max pooling) trained to tell images with a red square from images without."""
    import torch
    from torch import nn

    from imagevars.explainers.concept_net import ConceptNet

    torch.manual_seed(0)
    x, y, _ = dataset(600, seed=0)
    net = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveMaxPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 2),
    )
    model = ConceptNet(net, 48, ["plain", "red square"])
    inputs, labels = model.prepare(list(x)), torch.from_numpy(y)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    for _ in range(8):
        order = torch.randperm(len(inputs))
        for s in range(0, len(inputs), 32):
            i = order[s : s + 32]
            opt.zero_grad()
            nn.functional.cross_entropy(net(inputs[i]), labels[i]).backward()
            opt.step()
    net.eval()
    xv, yv, _ = dataset(200, seed=1)
    with torch.no_grad():
        assert (net(model.prepare(list(xv))).argmax(1).numpy() == yv).mean() > 0.97  # it learned the task
    xa, ya, _ = dataset(80, seed=2)
    return model, [xa[i] for i in range(80) if ya[i] == 1], [xa[i] for i in range(80) if ya[i] == 0]


def test_ace_finds_the_planted_concept_first(planted, tmp_path):
    model, red, plain = planted
    from imagevars.explainers.concepts import concepts

    result = concepts(model, red, "red square", random_images=plain, seed=0)
    top = result.table.iloc[0]
    purity = np.mean([_red_share(s.patch) > 0.2 for s in result.concepts[0]])
    assert purity >= 0.9  # the most important concept is the red squares
    assert top["significant"] and top["tcav"] >= 0.9 and top["n_images"] >= 30
    assert result.provenance["layer"] == "4" and 0.3 < result.provenance["chance_tcav_mean"] < 0.7
    for row, segs in zip(result.table.itertuples(), result.concepts):  # no blue concept drives the class
        if np.mean([_blue_share(s.patch) > 0.2 for s in segs]) > 0.5:
            assert not (row.significant and row.tcav > result.provenance["chance_tcav_mean"])
    files = result.save(tmp_path / "concepts")
    assert files["figure"].stat().st_size > 10_000 and "tcav" in files["table"].read_text()
    assert set(result.provenance["seconds_by_step"]) == {"segment", "embed", "cluster", "tcav"}


def test_tcav_of_named_concepts_agrees_with_what_the_network_does(planted):
    """TCAV of a red disc is high and significant; of the blue distractor it is not above chance, and its sign
    matches the network's measured response to adding a blue circle away from the square."""
    import cv2
    import torch

    from imagevars.explainers.concepts import concept_importance

    model, red, plain = planted
    rng = np.random.default_rng(5)

    def discs(colour):
        out = []
        for _ in range(40):
            img = np.zeros((48, 48, 3), np.uint8)
            cv2.circle(img, (24, 24), int(rng.integers(12, 22)), colour, -1)
            out.append(img)
        return out

    r = concept_importance(model, discs((220, 30, 30)), red, "red square", random_images=plain)
    b = concept_importance(model, discs((30, 40, 220)), red, "red square", random_images=plain)
    assert r["tcav"] > 0.75 and r["p_value"] < 0.001
    assert b["tcav"] <= b["chance"] + 0.05  # blue does not push the class up

    changed = []
    for img in red:  # the network's own answer: add a blue circle away from the square
        ys, xs = np.nonzero((img[..., 0] == 220) & (img[..., 1] == 30))
        for _ in range(50):
            cy, cx = rng.integers(8, 40, 2)
            if abs(cy - ys.mean()) > 14 or abs(cx - xs.mean()) > 14:
                break
        blue = img.copy()
        cv2.circle(blue, (int(cx), int(cy)), 6, (30, 40, 220), -1)
        changed.append(blue)
    with torch.no_grad():
        effect = (model.module(model.prepare(changed))[:, 1] - model.module(model.prepare(red))[:, 1]).mean().item()
    if b["p_value"] < 0.05:
        assert np.sign(b["tcav"] - b["chance"]) == np.sign(effect)


def test_an_imagevars_classifier_and_the_command(tmp_path, capsys):
    """ACE through the command line on the bundled MNIST network (a Classifier), on real digits."""
    import pandas as pd
    from PIL import Image

    from imagevars.cli import main
    from imagevars.datasets import mnist

    (x, y), _ = mnist.load_data()
    folder = tmp_path / "threes"
    folder.mkdir()
    for i in np.flatnonzero(y == 3)[:12]:
        Image.fromarray(np.kron(x[i], np.ones((2, 2), np.uint8))).save(folder / f"{i}.png")  # 56 px: room for SLIC
    Image.new("L", (8, 8)).save(folder / "tiny.png")  # too small to segment: one error, not a failure
    out = tmp_path / "concepts"
    assert (
        main(
            [
                "explain",
                "concepts",
                "mnist-cnn",
                str(folder),
                "--class",
                "3",
                "--resolutions",
                "15,30",
                "--clusters",
                "8",
                "--runs",
                "6",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    table = pd.read_csv(out / "concepts.csv")
    assert list(table.columns) == ["concept", "n_segments", "n_images", "tcav", "tcav_sd", "p_value", "significant"]
    assert (out / "concepts.png").exists() and (out / "provenance.json").exists()
    printed = capsys.readouterr().out
    assert "1 image(s) could not be used" in printed and "layer" in printed


def test_bad_input_is_named(planted, tmp_path):
    from imagevars.explainers.concept_net import concept_network
    from imagevars.explainers.concepts import concepts

    model, red, plain = planted
    with pytest.raises(ValueError, match="at least 10 images"):
        concepts(model, red[:5], "red square")
    with pytest.raises(ValueError, match="layer 'nope' is not in the network"):
        concepts(model, red, "red square", layer="nope")
    with pytest.raises(ValueError, match="not one of the model's 2 classes"):
        concepts(model, red, "blue square")
    with pytest.raises(ValueError, match="too small to segment"):
        concepts(model, [np.zeros((8, 8, 3), np.uint8)] * 12, "red square")
    with pytest.raises(ValueError, match="no gradients"):
        concept_network("centernet-mbv3-coco")


def test_names_are_suggested_by_clip_from_the_vocabulary(planted, tmp_path):
    """Tiny random CLIP saved as a hub folder: the suggestion is the word nearest the concept's mean segment."""
    from imagevars.explainers.concepts import concepts
    from imagevars.models.clip import ClipModel, save_random_clip

    folder = str(
        save_random_clip(
            tmp_path / "clip",
            text=dict(
                hidden_size=16,
                intermediate_size=32,
                num_hidden_layers=1,
                num_attention_heads=2,
                max_position_embeddings=24,
            ),
            vision=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, patch_size=8),
            projection_dim=8,
            image_side=32,
        )
    )
    model, red, plain = planted
    result = concepts(model, red, "red square", random_images=plain, n_clusters=6, runs=4, resolutions=(15, 50))
    words = ["red", "square", "texture", "blue", "circle"]
    names = result.name(folder, words, top=2)
    clip = ClipModel(folder)
    image = clip.embed_images([s.patch for s in result.concepts[0]]).mean(0)
    sims = clip.embed_texts([f"a photo of {w}" for w in words]) @ (image / np.linalg.norm(image))
    assert names[0][0] == words[int(np.argmax(sims))] and all(n in words for n in names[0])
    assert result.table["suggested_names"][0].endswith("(suggestion)")
    assert result.provenance["names"]["vocabulary"] == "given"


def test_a_learned_measure_is_explained_through_its_backbone(tmp_path):
    """A linear probe on EfficientNet-Lite0 features becomes a PyTorch network whose class probabilities are the
    measure's own."""
    import skimage.data as data
    import torch

    import imagevars
    from imagevars.explainers.concept_net import concept_network
    from imagevars.models.card import ModelCard
    from imagevars.models.linear_probe import Head, save

    rng = np.random.default_rng(0)
    head = Head(
        "professional",
        "classes",
        ("no", "yes"),
        rng.normal(0.5, 0.2, 1280),
        rng.uniform(0.5, 2, 1280),
        rng.normal(0, 0.05, (1, 1280)),
        np.array([0.1]),
    )
    card = ModelCard(
        name="pro",
        task="classify",
        labels=("no", "yes"),
        input_size=(224, 224, 3),
        license="test",
        description="a test measure",
        config={"backbone": "efficientnet-lite0"},
    )
    folder = save(tmp_path / "measure", [head], card)
    net = concept_network(str(folder))
    assert net.labels == ["no", "yes"] and net.resolve_layer() == "backbone.blocks.10"
    photos = [data.astronaut(), data.coffee()]
    with torch.no_grad():
        got = torch.softmax(net.module(net.prepare(photos)), 1).numpy()
        features = net.module.backbone.features(net.prepare(photos)).numpy()
    assert np.allclose(got, head.predict(features), atol=1e-5)
    with pytest.raises(ValueError, match="not one of"):
        imagevars.explain.concepts(str(folder), photos * 5, "maybe")
