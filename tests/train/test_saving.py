import json

import numpy as np
import pytest

import imagevars
from imagevars.io.files import sha256_file
from imagevars.io.http import ChecksumError
from imagevars.train import load_model, set_seed
from imagevars.train.export import check_onnx


@pytest.fixture(scope="module")
def trained(small_mnist):
    (tx, ty), _ = small_mnist
    set_seed(0)
    model = imagevars.create_model("mnist-cnn")
    model.compile()
    model.fit(tx[:1000], ty[:1000], batch_size=100, epochs=1, verbose=0)
    return model


def test_save_load_roundtrip_with_card_and_onnx(trained, small_mnist, tmp_path):
    (_, _), (vx, _) = small_mnist
    folder = trained.save(tmp_path / "m", command="test", seed=0)
    assert sorted(p.name for p in folder.iterdir()) == ["card.json", "model.onnx", "model.safetensors"]
    card = json.loads((folder / "card.json").read_text())
    assert card["weights"]["sha256"] == sha256_file(folder / "model.safetensors")
    assert card["training"]["command"] == "test" and card["training"]["imagevars_version"] == imagevars.__version__
    assert card["training"]["onnx_sha256"] == sha256_file(folder / "model.onnx")
    assert card["architecture"] == "lecture-cnn" and card["config"]["num_classes"] == 10
    loaded = load_model(folder)
    np.testing.assert_array_equal(loaded.predict(vx[:50]), trained.predict(vx[:50]))
    # the weights file is safetensors, not a pickle
    assert (folder / "model.safetensors").read_bytes()[8:9] == b"{"


def test_onnx_matches_torch_on_real_digits(trained, small_mnist, tmp_path):
    import onnxruntime as ort

    (_, _), (vx, _) = small_mnist
    folder = trained.save(tmp_path / "m")
    assert check_onnx(trained, folder / "model.onnx") < 1e-5
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    x = (vx[:37].astype(np.float32) / 255)[:, None]
    got = session.run(None, {"image": x})[0]
    np.testing.assert_allclose(got, trained.predict(vx[:37]), atol=1e-5)


def test_tampered_weights_are_refused(trained, tmp_path):
    folder = trained.save(tmp_path / "m", onnx=False)
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-1] ^= 1
    (folder / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="model.safetensors for 'mnist-cnn' has sha256"):
        load_model(folder)


def test_not_a_model_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a saved imagevars model: it has no card.json"):
        load_model(tmp_path)


def test_create_model_with_explicit_weights_file(trained, tmp_path, small_mnist):
    (_, _), (vx, _) = small_mnist
    folder = trained.save(tmp_path / "m", onnx=False)
    again = imagevars.create_model("mnist-cnn", weights=folder / "model.safetensors")
    np.testing.assert_array_equal(again.predict(vx[:5]), trained.predict(vx[:5]))


def test_overrides_and_unknown_settings():
    m = imagevars.create_model("mnist-cnn", labels=["cat", "dog", "owl"], in_channels=3, input_size=64)
    assert m.card.input_size == (64, 64, 3) and m.labels == ("cat", "dog", "owl") and m.card.weights is None
    assert m.predict(np.zeros((2, 64, 64, 3), np.uint8)).shape == (2, 3)
    with pytest.raises(TypeError, match="unknown setting"):
        imagevars.create_model("mnist-cnn", depth=3)
    with pytest.raises(KeyError, match="no model named 'mnist-cn'"):
        imagevars.create_model("mnist-cn")
