import pytest
import torch

import imagevars
from imagevars.train.mnist_cnn import BitDropout, LectureCNN, LectureCNNConfig
from imagevars.train.summary import layer_table


def test_summary_numbers_match_keras():
    model = imagevars.create_model("mnist-cnn")
    rows = layer_table(model.module, (28, 28, 1))
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("conv2d", "Conv2D", (None, 26, 26, 32), 320),
        ("max_pooling2d", "MaxPooling2D", (None, 13, 13, 32), 0),
        ("conv2d_1", "Conv2D", (None, 11, 11, 64), 18496),
        ("max_pooling2d_1", "MaxPooling2D", (None, 5, 5, 64), 0),
        ("flatten", "Flatten", (None, 1600), 0),
        ("dropout", "Dropout", (None, 1600), 0),
        ("dense", "Dense", (None, 10), 16010),
    ]
    text = model.summary(print_fn=None)
    assert "Total params: 34,826 (136.04 KB)" in text
    assert "conv2d_1 (Conv2D)" in text and "(None, 11, 11, 64)" in text and "18,496" in text
    assert model.count_params() == 34826


def test_summary_prints(capsys):
    imagevars.create_model("mnist-cnn").summary()
    assert "Trainable params: 34,826" in capsys.readouterr().out


@pytest.mark.parametrize("size,channels", [(28, 1), (64, 3), (33, 3), (10, 1)])
def test_fast_forward_equals_reference_with_gradients(size, channels):
    torch.manual_seed(0)
    net = LectureCNN(LectureCNNConfig(in_channels=channels, input_size=size, num_classes=7)).eval()
    x = torch.rand(6, channels, size, size)
    # real images have flat regions: include an all-zero image (ties inside pooling windows)
    x[0] = 0
    y = torch.tensor([0, 1, 2, 3, 4, 5])
    outs, grads = [], []
    for forward in (net.forward, net.forward_reference):
        net.zero_grad()
        logits = forward(x)
        torch.nn.functional.cross_entropy(logits, y).backward()
        outs.append(logits.detach())
        grads.append([p.grad.clone() for p in net.parameters()])
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-5, atol=1e-5)
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_too_small_input_is_refused():
    with pytest.raises(ValueError, match="input_size 9 is too small"):
        LectureCNN(LectureCNNConfig(input_size=9))


def test_keras_initialisation():
    torch.manual_seed(0)
    net = LectureCNN()
    assert torch.count_nonzero(net.conv2d.bias) == 0 and torch.count_nonzero(net.dense.bias) == 0
    limit = (6 / (1600 + 10)) ** 0.5  # glorot uniform for the dense layer
    assert net.dense.weight.abs().max() <= limit and net.dense.weight.abs().max() > 0.9 * limit


def test_bit_dropout_keeps_half_and_rescales():
    torch.manual_seed(0)
    d = BitDropout(0.5).train()
    out = d(torch.ones(200, 1600))
    assert set(out.unique().tolist()) == {0.0, 2.0}
    assert abs((out > 0).float().mean().item() - 0.5) < 0.005
    assert d.eval()(torch.ones(3)).tolist() == [1.0, 1.0, 1.0]
    # reproducible from torch's seed
    torch.manual_seed(1)
    a = BitDropout(0.5).train()(torch.ones(100))
    torch.manual_seed(1)
    b = BitDropout(0.5).train()(torch.ones(100))
    assert torch.equal(a, b)


def test_bit_dropout_other_rates():
    torch.manual_seed(0)
    out = BitDropout(0.2).train()(torch.ones(100_000))
    assert abs((out == 0).float().mean().item() - 0.2) < 0.01 and out.max().item() == pytest.approx(1.25)
    with pytest.raises(ValueError, match="dropout rate"):
        BitDropout(1.0)


def test_fast_cnn_summary_and_equivalence():
    torch.manual_seed(0)
    model = imagevars.create_model("mnist-fast-cnn")
    rows = layer_table(model.module, (28, 28, 1))
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("conv2d", (None, 24, 24, 24), 624),
        ("max_pooling2d", (None, 12, 12, 24), 0),
        ("conv2d_1", (None, 10, 10, 32), 6944),
        ("max_pooling2d_1", (None, 5, 5, 32), 0),
        ("flatten", (None, 800), 0),
        ("dense", (None, 256), 205056),
        ("dense_1", (None, 10), 2570),
    ]
    assert model.count_params() == 215194
    x = torch.rand(4, 1, 28, 28)
    net = model.module
    torch.testing.assert_close(net(x), net.forward_reference(x))
