"""Full training runs against the figures of the foundation issue. Slow: `make bench-tests`."""

import statistics

import pytest

import imagevars
from imagevars.io.files import sha256_file
from imagevars.train.session import train

pytestmark = pytest.mark.slow


def test_lecture_recipe_reaches_the_lectures_accuracy(tmp_path):
    report = train("mnist", recipe="lecture", out=tmp_path / "run", seed=0, verbose=0, onnx=False)
    assert report.test_accuracy >= 0.989  # the lecture reports 98.97%


def test_fast_recipe_mean_of_five_seeds_reaches_99(tmp_path):
    accs = [train("mnist", recipe="fast", out=tmp_path / str(s), seed=s, verbose=0).test_accuracy for s in range(5)]
    assert statistics.mean(accs) >= 0.990, accs


def test_bundled_weights_are_reproduced_by_their_recorded_command(tmp_path):
    import torch

    card = imagevars.get_card("mnist-cnn")
    before = torch.get_num_threads()
    torch.set_num_threads(card.training["threads"])
    try:
        report = train(
            "mnist", recipe="bundled", out=tmp_path / "run", seed=card.training["seed"], verbose=0, onnx=False
        )
    finally:
        torch.set_num_threads(before)
    assert report.correct == card.training["test_correct"]
    assert sha256_file(tmp_path / "run" / "model" / "model.safetensors") == card.weights.sha256
