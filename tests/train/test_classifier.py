import numpy as np
import pytest
import torch

import imagevars
from imagevars.train import Callback, EarlyStopping, LearningRateScheduler, set_seed


def _fit(small_mnist, seed=0, **kw):
    (tx, ty), _ = small_mnist
    set_seed(seed)
    model = imagevars.create_model("mnist-cnn")
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(tx, ty, batch_size=128, verbose=0, **{"epochs": 1, **kw})
    return model, history


def test_fit_learns_and_evaluate_returns_loss_and_accuracy(small_mnist):
    (_, _), (vx, vy) = small_mnist
    model, history = _fit(small_mnist, epochs=2, validation_split=0.1)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][1] < history.history["loss"][0]
    loss, acc = model.evaluate(vx, vy, verbose=0)
    assert acc > 0.7 and loss < 1.0  # chance: 0.1 and 2.3
    probs = model.predict(vx[:20])
    assert probs.shape == (20, 10) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert (probs.argmax(1) == vy[:20]).mean() > 0.6


def test_same_seed_same_model_different_seed_different_model(small_mnist):
    a, _ = _fit(small_mnist, seed=3)
    b, _ = _fit(small_mnist, seed=3)
    c, _ = _fit(small_mnist, seed=4)
    for (name, p), q in zip(a.module.state_dict().items(), b.module.state_dict().values()):
        assert torch.equal(p, q), name
    assert not torch.equal(a.module.dense.weight, c.module.dense.weight)


def test_validation_split_holds_out_the_last_images(small_mnist):
    (tx, ty), _ = small_mnist
    model = imagevars.create_model("mnist-cnn")
    model.compile()
    seen = []

    class Spy(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(logs)

    # labels of the last 10% are scrambled: validation accuracy must be near chance, training not
    ty = ty.copy()
    ty[-300:] = (ty[-300:] + 1) % 10
    model.fit(tx, ty, batch_size=128, epochs=2, validation_split=0.1, verbose=0, callbacks=[Spy()])
    assert seen[-1]["val_accuracy"] < 0.2 < 0.7 < seen[-1]["accuracy"]


def test_inputs_in_every_layout_give_the_same_predictions(small_mnist):
    (_, _), (vx, _) = small_mnist
    model = imagevars.create_model("mnist-cnn")
    x = vx[:8]
    p1 = model.predict(x)
    np.testing.assert_allclose(model.predict(x[..., None]), p1, atol=1e-6)
    np.testing.assert_allclose(model.predict(x[:, None]), p1, atol=1e-6)
    np.testing.assert_allclose(model.predict(x.astype(np.float32) / 255), p1, atol=1e-6)


def test_one_hot_and_integer_labels_agree(small_mnist):
    (_, _), (vx, vy) = small_mnist
    model = imagevars.create_model("mnist-cnn")
    a = model.evaluate(vx, vy, verbose=0)
    b = model.evaluate(vx, np.eye(10)[vy], verbose=0)
    assert a == pytest.approx(b)


def test_bad_inputs_have_clear_errors(small_mnist):
    (tx, ty), _ = small_mnist
    model = imagevars.create_model("mnist-cnn")
    with pytest.raises(RuntimeError, match=r"call model.compile"):
        model.fit(tx[:10], ty[:10])
    model.compile()
    with pytest.raises(
        ValueError, match=r"x has shape \(10, 32, 32\); this model takes images of 28x28 with 1 channel"
    ):
        model.fit(np.zeros((10, 32, 32), np.uint8), ty[:10])
    with pytest.raises(ValueError, match="x has 10 images but y has 9 labels"):
        model.fit(tx[:10], ty[:9])
    with pytest.raises(ValueError, match=r"labels outside 0..9"):
        model.fit(tx[:10], ty[:10] + 5)
    with pytest.raises(ValueError, match="unknown loss"):
        model.compile(loss="mse")
    with pytest.raises(ValueError, match="unknown optimizer"):
        model.compile(optimizer="adamax2")


def test_early_stopping_and_scheduler(small_mnist):
    (tx, ty), _ = small_mnist
    model = imagevars.create_model("mnist-cnn")
    model.compile()
    rates = []

    class Rate(Callback):
        def on_epoch_end(self, epoch, logs=None):
            rates.append(self.model.optimizer.param_groups[0]["lr"])

    stop = EarlyStopping(monitor="val_accuracy", patience=0, min_delta=1.0)  # no epoch can improve by 100%
    model.fit(
        tx[:600],
        ty[:600],
        epochs=5,
        validation_split=0.2,
        verbose=0,
        callbacks=[LearningRateScheduler(lambda epoch, lr: 0.01 / (epoch + 1)), Rate(), stop],
    )
    assert stop.stopped_epoch == 1 and len(model.history.epoch) == 2
    assert rates == pytest.approx([0.01, 0.005])


def test_custom_train_step_is_used(small_mnist):
    (tx, ty), _ = small_mnist
    calls = []

    class Frozen(imagevars.train.Classifier):
        def train_step(self, x, y):  # the custom-step level: no update at all
            calls.append(len(x))
            with torch.no_grad():
                return self._logs(torch.nn.functional.cross_entropy(self.module(x), y), self.module(x), y)

    base = imagevars.create_model("mnist-cnn")
    model = Frozen(base.module, base.card)
    before = {k: v.clone() for k, v in model.module.state_dict().items()}
    model.compile()
    model.fit(tx[:300], ty[:300], batch_size=100, epochs=1, verbose=0)
    assert calls == [100, 100, 100]
    assert all(torch.equal(before[k], v) for k, v in model.module.state_dict().items())


def test_progress_bar_shows_figures(small_mnist, capsys):
    (tx, ty), _ = small_mnist
    model = imagevars.create_model("mnist-cnn")
    model.compile()
    model.fit(tx[:512], ty[:512], batch_size=128, epochs=1, validation_split=0.25, verbose=1)
    err = capsys.readouterr().err
    assert "Epoch 1/1" in err and "3/3" in err and "val_accuracy=" in err and "loss=" in err
