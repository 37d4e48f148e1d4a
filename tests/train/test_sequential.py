"""imagevars.Sequential and imagevars.layers: the lecture's model-building code, Keras's shapes and counts."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import imagevars
from imagevars import layers
from imagevars.cli import main


def lecture_model():
    # The lecture's "Build the model" block, with keras. replaced by imagevars. and nothing else.
    model = imagevars.Sequential(
        [
            layers.InputLayer(input_shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    return model


def _table(model) -> list[tuple[str, str, int]]:
    """(layer (type), output shape, params) per row of the printed summary."""
    rows = []
    for line in model.summary(print_fn=None).splitlines():
        m = re.match(r"^(\S+ \(\w+\))\s*(\(None[^)]*\))\s+([\d,]+)$", line)
        if m:
            rows.append((m.group(1), m.group(2), int(m.group(3).replace(",", ""))))
    return rows


def _totals(model) -> tuple[int, int, int]:
    text = model.summary(print_fn=None)
    return tuple(
        int(re.search(rf"{k} params: ([\d,]+)", text).group(1).replace(",", ""))
        for k in ("Total", "Trainable", "Non-trainable")
    )


def test_the_lectures_block_gives_keras_summary():
    model = lecture_model()
    assert _table(model) == [
        ("conv2d (Conv2D)", "(None, 26, 26, 32)", 320),
        ("max_pooling2d (MaxPooling2D)", "(None, 13, 13, 32)", 0),
        ("conv2d_1 (Conv2D)", "(None, 11, 11, 64)", 18496),
        ("max_pooling2d_1 (MaxPooling2D)", "(None, 5, 5, 64)", 0),
        ("flatten (Flatten)", "(None, 1600)", 0),
        ("dropout (Dropout)", "(None, 1600)", 0),
        ("dense (Dense)", "(None, 10)", 16010),
    ]
    assert _totals(model) == (34826, 34826, 0) and model.count_params() == 34826
    y = imagevars.utils.to_categorical(np.array([3, 0]), 10)
    assert y.tolist()[0] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0] and y.dtype == np.float32


def test_other_stacks_match_kerass_shape_and_parameter_rules():
    """Expected values from Keras's rules: Conv2D k*k*c_in*filters + filters; 'same' output ceil(n / stride);
    BatchNormalization 4 per channel, half of them (moving mean and variance) non-trainable."""
    model = imagevars.Sequential(
        [
            layers.Input(shape=(32, 32, 3)),
            layers.Rescaling(1 / 255),
            layers.RandomFlip("horizontal"),
            layers.Conv2D(16, 3, strides=2, padding="same"),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.MaxPooling2D(3, strides=2, padding="same"),
            layers.AveragePooling2D(2),
            layers.Conv2D(8, 1, activation="tanh", use_bias=False),
            layers.GlobalAveragePooling2D(),
            layers.Dense(5, activation="softmax"),
        ]
    )
    assert [(n.split(" ")[0], s, p) for n, s, p in _table(model)] == [
        ("rescaling", "(None, 32, 32, 3)", 0),
        ("random_flip", "(None, 32, 32, 3)", 0),
        ("conv2d", "(None, 16, 16, 16)", 448),
        ("batch_normalization", "(None, 16, 16, 16)", 64),
        ("activation", "(None, 16, 16, 16)", 0),
        ("max_pooling2d", "(None, 8, 8, 16)", 0),
        ("average_pooling2d", "(None, 4, 4, 16)", 0),
        ("conv2d_1", "(None, 4, 4, 8)", 128),
        ("global_average_pooling2d", "(None, 8)", 0),
        ("dense", "(None, 5)", 45),
    ]
    assert _totals(model) == (685, 653, 32)
    mlp = imagevars.Sequential(
        [
            layers.InputLayer(input_shape=(28, 28, 1)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10),
        ]
    )
    assert [p for _, _, p in _table(mlp)] == [0, 100480, 0, 1290] and _totals(mlp)[0] == 101770
    strided = imagevars.Sequential(
        [
            layers.InputLayer(input_shape=(28, 28, 1)),
            layers.Conv2D(8, 5, strides=2),
            layers.Conv2D(8, 3, padding="same", use_bias=False),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    assert [s for _, s, _ in _table(strided)][:2] == ["(None, 12, 12, 8)", "(None, 12, 12, 8)"]
    assert [p for _, _, p in _table(strided)][:2] == [208, 576]


@pytest.mark.parametrize(
    "stack, says",
    [
        (
            [layers.Conv2D(8, 3), layers.MaxPooling2D(2), layers.Conv2D(8, 5)],
            "conv2d_1 (Conv2D): its 5x5 kernel is larger than its 3x3x8 input",
        ),
        ([layers.Conv2D(8, 3), layers.Dense(10)], "dense (Dense) receives (6, 6, 8), an image: put Flatten()"),
        (
            [layers.Flatten(), layers.Dense(8, activation="softmax"), layers.Dense(2)],
            "softmax belongs on the last layer",
        ),
        ([layers.Conv2D(8, 3)], "gives (6, 6, 8): a classifier ends with Dense"),
    ],
)
def test_shapes_that_do_not_fit_say_which_layer_and_what_to_do(stack, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        imagevars.Sequential([layers.InputLayer(input_shape=(8, 8, 1)), *stack])


def test_random_layers_act_in_training_only():
    net = imagevars.Sequential(
        [
            layers.InputLayer(input_shape=(16, 16, 3)),
            layers.RandomFlip(),
            layers.RandomRotation(0.2),
            layers.RandomZoom(0.3),
            layers.Flatten(),
            layers.Dense(2),
        ]
    ).module
    x = torch.rand(8, 3, 16, 16)
    first = net.body["random_flip"]
    net.eval()
    assert torch.equal(first(x), x)
    net.train()
    torch.manual_seed(0)
    moved = net.body["random_rotation"](x)
    assert moved.shape == x.shape and not torch.allclose(moved, x)


def test_a_same_padded_batchnorm_stack_learns_mnist_and_is_a_full_classifier(mnist, tmp_path):
    (train_x, train_y), (test_x, test_y) = mnist
    imagevars.train.set_seed(0)
    model = imagevars.Sequential(
        [
            layers.InputLayer(input_shape=(28, 28, 1)),
            layers.Conv2D(16, 3, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=0.9),
            layers.Activation("relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=0.9),
            layers.Activation("relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ],
        name="bn-net",
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(train_x / 255.0, imagevars.utils.to_categorical(train_y, 10), batch_size=128, epochs=1, verbose=0, seed=0)
    loss, accuracy = model.evaluate(test_x / 255.0, test_y, verbose=0)
    assert accuracy >= 0.97
    folder = model.save(tmp_path / "bn-net")  # safetensors + card (the layer list) + ONNX checked against torch
    again = imagevars.train.load_model(folder)
    assert np.allclose(again.predict(test_x[:64]), model.predict(test_x[:64]), atol=1e-5)
    assert again.card.config["layers"][1]["class_name"] == "BatchNormalization"
    import onnxruntime as ort

    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {"image": (test_x[:16, None] / 255.0).astype(np.float32)})[0]
    assert np.abs(got - model.predict(test_x[:16])).max() < 1e-4
    cam = imagevars.explain(model, test_x[:4], method="gradcam")
    assert np.asarray(cam.values).shape[0] == 4
    # run classify applies the saved network to image files
    from PIL import Image

    for i in range(6):
        Image.fromarray(test_x[i]).save(tmp_path / f"{i}_{test_y[i]}.png")
    table = imagevars.run(
        [imagevars.tasks.ClassifyTask(str(folder), top=1)], sorted(tmp_path.glob("*.png")), workers=0, progress=False
    ).to_pandas()
    truth = [p.rsplit("_", 1)[1][0] for p in table["source"]]
    assert (table["classify_top1_label"] == truth).mean() >= 5 / 6


def test_train_takes_a_network_from_a_yaml_or_python_file(tmp_path, capsys):
    from textures import write_textures  # tests/helpers

    root = write_textures(tmp_path / "photos", per_class=30, side=32)
    (tmp_path / "net.yaml").write_text(
        "input_shape: [32, 32, 3]\nlayers:\n"
        "  - Conv2D: {filters: 8, kernel_size: 3, activation: relu}\n"
        "  - MaxPooling2D: {pool_size: 2}\n  - Flatten: {}\n"
        "  - Dense: {units: 2, activation: softmax}\n"
    )
    assert (
        main(
            [
                "train",
                str(root),
                "--model-file",
                str(tmp_path / "net.yaml"),
                "--epochs",
                "2",
                "--no-onnx",
                "-q",
                "-o",
                str(tmp_path / "run"),
            ]
        )
        == 0
    )
    card = (tmp_path / "run" / "model" / "card.json").read_text()
    assert '"sequential"' in card and '"plain"' in card
    (tmp_path / "net.py").write_text(
        "import imagevars\nfrom imagevars import layers\nmodel = imagevars.Sequential("
        "[layers.InputLayer(input_shape=(28, 28, 1)), layers.Flatten(), "
        "layers.Dense(2, activation='softmax')])\n"
    )
    assert main(["train", str(root), "--model-file", str(tmp_path / "net.py"), "-q", "-o", str(tmp_path / "r2")]) == 2
    assert "the network takes (28, 28, 1) images, the data are (32, 32, 3)" in capsys.readouterr().err
