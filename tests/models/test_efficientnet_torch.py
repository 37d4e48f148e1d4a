"""The trainable EfficientNet-Lite0 built from the bundled ONNX weights, and the ONNX written back from it."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data as data
import torch

import imagevars
from imagevars.models.efficientnet import center_crop
from imagevars.models.efficientnet_torch import from_onnx, write_onnx


@pytest.fixture(scope="module")
def photos():
    return np.stack([center_crop(p) for p in (data.chelsea(), data.coffee(), data.astronaut())])


def _normalised(images: np.ndarray) -> torch.Tensor:
    return (torch.from_numpy(images).permute(0, 3, 1, 2).float() - 127) / 128


def test_the_pytorch_network_gives_what_the_bundled_onnx_gives(photos):
    net = from_onnx()
    with torch.no_grad():
        probabilities = torch.softmax(net(_normalised(photos)), 1).numpy()
        features = net.features(_normalised(photos)).numpy()
    want_p, want_f = imagevars.create_model("efficientnet-lite0").predict(photos)
    assert np.abs(probabilities - want_p).max() < 1e-5 and np.abs(features - want_f).max() < 1e-4
    labels = imagevars.get_card("efficientnet-lite0").labels
    top = [labels[i] for i in probabilities.argmax(1)]
    assert top[0] in ("Egyptian cat", "tiger cat", "tabby") and top[1] == "espresso"


def test_a_new_head_is_written_back_as_onnx_that_runs_as_the_network_does(photos, tmp_path):
    import onnxruntime as ort

    torch.manual_seed(0)
    net = from_onnx(num_classes=3)
    with torch.no_grad():
        net.blocks[3].project.weight.mul_(1.1)  # as if fine-tuned: changed backbone weights go to the file too
        want = torch.softmax(net(_normalised(photos)), 1).numpy()
        want_f = net.features(_normalised(photos)).numpy()
    path = write_onnx(net, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probabilities, features = session.run(None, {"image": photos.astype(np.float32)})
    assert probabilities.shape == (3, 3) and np.abs(probabilities - want).max() < 1e-5
    assert np.abs(features - want_f).max() < 1e-4
    assert np.abs(features - imagevars.create_model("efficientnet-lite0").predict(photos)[1]).max() > 1e-3


def test_a_graph_of_another_shape_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["image"], ["out"])],
        "g",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3])],
    )
    onnx.save(helper.make_model(graph), tmp_path / "other.onnx")
    with pytest.raises(ValueError, match="not an EfficientNet-Lite graph"):
        from_onnx(tmp_path / "other.onnx")
