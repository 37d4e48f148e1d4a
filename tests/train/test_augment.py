"""Photo augmentation (training batches only) and early stopping that keeps the best epoch's weights."""

from __future__ import annotations

import numpy as np
import torch

from imagevars.train.augment import photo_augment
from imagevars.train.callbacks import EarlyStopping


def test_flips_alone_mirror_about_half_the_images():
    x = torch.randn(64, 3, 8, 8)
    out = photo_augment(x, torch.Generator().manual_seed(0), min_area=1.0, jitter=0.0)
    same = [torch.allclose(o, i, atol=1e-5) for o, i in zip(out, x)]
    mirrored = [torch.allclose(o, i.flip(-1), atol=1e-5) for o, i in zip(out, x)]
    assert all(s or m for s, m in zip(same, mirrored)) and 16 < sum(mirrored) < 48


def test_crops_zoom_in_and_jitter_changes_contrast_but_the_seed_repeats_it():
    x = torch.linspace(-1, 1, 32).repeat(2, 3, 32, 1)  # a left-to-right ramp
    a = photo_augment(x, torch.Generator().manual_seed(1), min_area=0.5, jitter=0.0)
    b = photo_augment(x, torch.Generator().manual_seed(1), min_area=0.5, jitter=0.0)
    assert torch.equal(a, b)
    span = (a[..., -1] - a[..., 0]).abs().mean(dim=(1, 2))
    assert (span < 1.95).all() and (span > 1.3).all()  # a crop of 50-100% of the area: part of the ramp, stretched
    c = photo_augment(x, torch.Generator().manual_seed(2), min_area=1.0, jitter=0.2)
    ratio = c.std(dim=(1, 2, 3)) / x.std(dim=(1, 2, 3))
    assert ((ratio > 0.79) & (ratio < 1.21)).all() and not torch.allclose(ratio, torch.ones(2))


def test_early_stopping_puts_back_the_best_epochs_weights():
    class Model:
        module = torch.nn.Linear(1, 1, bias=False)
        stop_training = False

    stop = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    model = stop.model = Model()
    stop.on_train_begin()
    for epoch, loss in enumerate([1.0, 0.5, 0.7, 0.9]):
        with torch.no_grad():
            Model.module.weight.fill_(float(epoch))
        stop.on_epoch_end(epoch, {"val_loss": loss})
        if model.stop_training:
            break
    stop.on_train_end()
    assert model.stop_training and stop.best_epoch == 1 and Model.module.weight.item() == 1.0
    assert np.isclose(stop.best, 0.5)
