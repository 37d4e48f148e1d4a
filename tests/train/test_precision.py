"""compile(precision="mixed_bfloat16"): convolutions and matrix products in bfloat16, weights and loss in float32."""

import json

import numpy as np
import pytest
import torch

import imagevars
from digits import write_digits  # tests/helpers
from imagevars.train import set_seed
from imagevars.train.session import train


def _compiled(precision: str, seed: int = 0):
    set_seed(seed)
    model = imagevars.create_model("mnist-cnn")
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"], precision=precision)
    return model


def test_mixed_bfloat16_computes_in_bfloat16_keeps_float32_weights_and_learns(small_mnist):
    (tx, ty), (vx, vy) = small_mnist
    model = _compiled("mixed_bfloat16")
    dtypes = []
    hooks = [
        layer.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
        for layer in (model.module.conv2d, model.module.conv2d_1, model.module.dense)
    ]
    history = model.fit(tx, ty, batch_size=128, epochs=2, verbose=0)
    for h in hooks:
        h.remove()
    assert set(dtypes) == {torch.bfloat16}  # every step's convolutions and dense layer ran in bfloat16
    assert all(p.dtype == torch.float32 for p in model.module.parameters())
    assert history.history["loss"][1] < history.history["loss"][0]
    probs = model.predict(vx)
    assert probs.dtype == np.float32 and np.allclose(probs.sum(1), 1, atol=1e-5)
    accuracy = (probs.argmax(1) == vy).mean()
    assert accuracy > 0.7  # 3,000 images, 2 epochs; chance 0.1

    reference = _compiled("float32")
    reference.fit(tx, ty, batch_size=128, epochs=2, verbose=0)
    theirs = reference.predict(vx)
    assert not np.allclose(probs, theirs, atol=1e-4)  # a different computation ...
    assert abs(accuracy - (theirs.argmax(1) == vy).mean()) < 0.02  # ... that learns as much (0.819 vs 0.821)
    assert (probs.argmax(1) == theirs.argmax(1)).mean() > 0.97  # and the same digits (0.996)


def test_an_unknown_precision_is_a_clear_error():
    model = imagevars.create_model("mnist-cnn")
    with pytest.raises(ValueError, match="use 'float32' or 'mixed_bfloat16'"):
        model.compile(precision="float16")


def test_train_records_the_precision(tmp_path, mnist):
    # a folder of 240 digits, not all of MNIST: a CPU without bfloat16 instructions emulates them (an MNIST
    # epoch took 113 s on an AVX2-only machine)
    photos = write_digits(tmp_path / "digits", mnist)
    report = train(
        str(photos),
        recipe="lecture",
        epochs=4,
        out=tmp_path / "run",
        seed=1,
        verbose=0,
        onnx=False,
        precision="mixed_bfloat16",
    )
    assert report.test_accuracy > 0.7  # chance is 1/3
    card = json.loads((tmp_path / "run" / "model" / "card.json").read_text())
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert card["training"]["precision"] == metrics["precision"] == "mixed_bfloat16"
    assert metrics["provenance"]["tasks"][0]["params"]["precision"] == "mixed_bfloat16"
