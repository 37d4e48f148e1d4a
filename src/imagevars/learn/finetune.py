"""``imagevars learn --finetune``: the whole pretrained network trained further on a researcher's labels.

A linear probe (the default of ``imagevars learn``) reads the backbone's features as they are; when
the classes turn on details ImageNet never cared about (a professional's lighting, a watermark),
fine-tuning adjusts every layer to them. It costs more labels, minutes of CPU per epoch instead of
seconds, and its estimate comes from one held-out test set instead of cross-validation, so try
the probe first and fine-tune when its learning curve still rises.

The labelled images are split three ways, each stratified by class and seeded: a test set
(``test`` share, default 20%) that only the final report sees; a validation set (15% of the rest)
that early stopping watches (the weights of the epoch with the lowest validation loss are kept);
and the training images, which are flipped, cropped and colour-jittered afresh every epoch. The
backbone learns at a tenth of the new head's rate (AdamW), as fine-tuning usually goes.

The folder written holds the fine-tuned network as ONNX with its card (the classes, the backbone
and its sha256, the data hash, the test results), which ``imagevars run classify --model FOLDER``
applies like any classifier, and the report (test metrics with 95% bootstrap intervals, the
majority-class baseline, the confusion matrix, a reliability diagram, the surest and least sure
test images).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..io import provenance
from ..io.files import atomic_write, sha256_file
from . import report as write_report
from .fit import CLASSES, bootstrap, check, kind_of
from .labels import none_readable, read_labels

BACKBONES = ("efficientnet-lite0", "hf:<owner>/<name>")


def finetune(labels: str | os.PathLike, target: str | None, out: str | os.PathLike, *,
             backbone: str = "efficientnet-lite0", path_column: str | None = None, group: str | None = None,
             epochs: int = 5,
             batch_size: int = 16, learning_rate: float = 3e-4, test: float = 0.2, patience: int = 2, seed: int = 0,
             progress: bool = True):
    """Fine-tune ``backbone`` to the classes of ``target``; save it as ONNX with its card and test report.

    Args:
        labels: class folders (``FOLDER/<class>/<image>``), or a CSV/Parquet file of paths and labels.
        target: the label column (class folders: the name given to the class, default ``class``).
        out: the folder for the model, its card and its report.
        backbone: the pretrained network to start from: the bundled ``efficientnet-lite0``, or a hub
            image classifier (``hf:<owner>/<name>``).
        group: a column whose values never straddle the training, validation and test images.
        epochs: passes over the training images at most (early stopping may end sooner).
        learning_rate: the new head's; the backbone learns at a tenth of it.
        test: the share of labelled images kept aside for the report.

    Example:
        >>> report = finetune("PHOTOS_BY_CLASS/", None, "pro-vs-amateur/", epochs=5)  # doctest: +SKIP
        >>> report.results["class"]["metrics"]["accuracy"]["mean"]  # doctest: +SKIP
    """
    from ..models.hf_classify import is_hub_classifier
    from .session import LearnReport

    hub = is_hub_classifier(backbone)
    if backbone != BACKBONES[0] and not hub:
        raise ValueError(f"--finetune {backbone}: fine-tuning starts from {' or '.join(BACKBONES)} (a hub image "
                         "classifier); for other backbones learn a linear probe on their features (--features)")
    if not 0.05 <= test <= 0.5:
        raise ValueError(f"--test {test}: keep between 5% and 50% of the labelled images for the test set")
    clock = provenance.begin()
    out = Path(out)
    df = read_labels(labels, [target] if target else [], path_column=path_column, group=group)
    target = target or [c for c in df.columns if c != "source"][0]
    model, processor = _hub_model(backbone, seed) if hub else (_efficientnet_model(seed), None)
    images, ok, dropped = _images(df["source"].tolist(), model.card.input_size[0])
    df = df[ok].reset_index(drop=True)
    y = df[target].astype(str).to_numpy() if kind_of(df[target]) == CLASSES else None
    if y is None:
        raise ValueError(f"{target}: fine-tuning learns classes, and this column holds numbers; learn them with a "
                         "linear probe (imagevars learn without --finetune)")
    check(y, CLASSES, 3, target)  # every class in training, validation and test
    classes = np.unique(y)
    train, val, held = _split(y, test, seed, df[group].to_numpy() if group else None)
    _new_head(model, classes, learning_rate, seed)
    fitted = _fit(model, images, np.searchsorted(classes, y), train, val, epochs, batch_size, patience, seed, progress)
    probabilities = model.predict(images[held])
    result = _result(y, held, probabilities, classes, train, val, fitted, seed)
    result["grouped"] = group is not None
    result["split"] = "a stratified random test set" + (f", no {group} in training and test at once" if group else "")
    result["n"] = int(len(y))
    _save(model, processor, out, backbone, df[["source", target]], result, fitted)
    record = provenance.record(clock, [{"name": "learn --finetune", "params": {
        "target": target, "backbone": backbone, "group": group, "epochs": epochs, "batch_size": batch_size,
        "learning_rate": learning_rate, "test": test, "patience": patience, "seed": seed}, "model": backbone}],
        input=str(labels), n=int(len(df)))
    report = LearnReport(out, {target: result}, dropped, record["seconds"])
    summary = {target: {k: v for k, v in result.items() if k not in ("oof", "y", "rows")}}
    write_report.write(report, summary, record, df["source"].tolist())
    return report


def _images(sources: list[str], side: int):
    """(uint8 (N, side, side, 3) central crops of the readable images, readable mask, [(source, error)])."""
    from ..io.decode import DecodeError, decode
    from ..io.sources import read_source
    from ..models.efficientnet import center_crop

    crops, ok, dropped = [], [], []
    for s in sources:
        try:
            crops.append(center_crop(decode(read_source(s), s, max_side=2 * side).rgb, side))
            ok.append(True)
        except (DecodeError, OSError) as exc:
            ok.append(False)
            dropped.append((s, str(exc)))
    if not crops:
        raise none_readable(dropped)
    return np.stack(crops), np.array(ok), dropped


def _split(y: np.ndarray, test: float, seed: int, groups: np.ndarray | None = None):
    """Row indices (train, validation, test), each stratified by class; with ``groups``, no group in two of them."""
    from sklearn.model_selection import StratifiedGroupKFold, train_test_split

    rows = np.arange(len(y))
    if groups is None:
        rest, held = train_test_split(rows, test_size=test, stratify=y, random_state=seed)
        train, val = train_test_split(rest, test_size=0.15, stratify=y[rest], random_state=seed)
        return train, val, held

    def cut(index: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
        k = max(2, round(1 / share))
        if len(np.unique(groups[index])) < k:
            raise ValueError(f"--group: {len(np.unique(groups[index]))} groups cannot be split {k} ways; "
                             "label images from more groups, or leave out --group")
        keep, out = next(StratifiedGroupKFold(k, shuffle=True, random_state=seed).split(index, y[index], groups[index]))
        return index[keep], index[out]

    rest, held = cut(rows, test)
    train, val = cut(rest, 0.15)
    return train, val, held


def _efficientnet_model(seed: int):
    """EfficientNet-Lite0 from the bundled weights as a Keras-style classifier (its head replaced later)."""
    import torch

    from ..models.efficientnet import EFFICIENTNET_LITE0
    from ..models.efficientnet_torch import from_onnx
    from ..train.classifier import Classifier

    torch.manual_seed(seed)
    return Classifier(from_onnx(), dataclasses.replace(EFFICIENTNET_LITE0, weights=None, training={}))


def _hub_model(spec: str, seed: int):
    """(classifier, image processor) of a hub image classifier, normalising as its processor does."""
    import torch

    from ..models.card import ModelCard
    from ..models.hf_classify import HubClassifier
    from ..train.classifier import Classifier

    torch.manual_seed(seed)
    hub = HubClassifier(spec)
    p = hub.processor
    rescale = float(getattr(p, "rescale_factor", 1 / 255)) if getattr(p, "do_rescale", True) else 1.0
    normalise = getattr(p, "do_normalize", False)
    card = ModelCard(name=spec, task="classify", labels=hub.labels, input_size=hub.card.input_size, scale=rescale,
                     mean=tuple(p.image_mean) if normalise else (0.0,) * 3,
                     std=tuple(p.image_std) if normalise else (1.0,) * 3, architecture=hub.card.architecture,
                     config={**hub.card.config, "commit": hub.commit})
    return Classifier(_Logits(hub.model), card), p


def _Logits(model):  # noqa: N802 - builds a module; torch is imported only when fine-tuning
    """A transformers classifier as a module from normalised images (N, 3, H, W) to logits."""
    from torch import nn

    class Logits(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(pixel_values=x).logits

    return Logits(model)


def _replace_head(module, n: int) -> list:
    """Put a new n-class output layer in place of the network's last one; return its parameters.

    EfficientNet-Lite's is ``fc``; a transformers classifier's is its last linear layer with as many
    outputs as the model has labels (``classifier`` in ViT, ConvNeXt, BEiT, ResNet ...), and its
    configuration's labels follow.
    """
    from torch import nn

    inner = getattr(module, "inner", None)
    if inner is None:  # EfficientNet-Lite
        parent, name, old = module, "fc", module.fc
    else:
        found = [(k, m) for k, m in inner.named_modules() if isinstance(m, nn.Linear)
                 and m.out_features == inner.config.num_labels]
        if not found:
            raise ValueError(f"{type(inner).__name__}: no output layer with {inner.config.num_labels} outputs to replace")
        path, old = found[-1]
        parent_path, _, name = path.rpartition(".")
        parent = inner.get_submodule(parent_path) if parent_path else inner
    new = nn.Linear(old.in_features, n)
    nn.init.xavier_uniform_(new.weight)
    nn.init.zeros_(new.bias)
    setattr(parent, name, new)
    return list(new.parameters())


def _new_head(model, classes: np.ndarray, learning_rate: float, seed: int) -> None:
    """Replace the model's classes with ``classes`` (a new head) and compile it: AdamW, the backbone at a
    tenth of the head's learning rate, photo augmentation on the training batches."""
    import torch

    from ..train.augment import photo_augment

    torch.manual_seed(seed)
    model.with_card(labels=tuple(str(c) for c in classes))
    head = _replace_head(model.module, len(classes))
    inner = getattr(model.module, "inner", None)
    if inner is not None:  # the configuration saved with the model names the new classes
        inner.config.num_labels = len(classes)
        inner.config.id2label = {i: str(c) for i, c in enumerate(classes)}
        inner.config.label2id = {str(c): i for i, c in enumerate(classes)}
    ids = {id(p) for p in head}
    body = [p for p in model.module.parameters() if id(p) not in ids]
    model.compile(optimizer=torch.optim.AdamW([{"params": body, "lr": learning_rate / 10},
                                               {"params": head, "lr": learning_rate}], weight_decay=1e-4))
    generator = torch.Generator().manual_seed(seed)
    model.augment = lambda x: photo_augment(x, generator)


def _fit(model, images, codes, train, val, epochs: int, batch_size: int, patience: int, seed: int,
         progress: bool) -> dict[str, Any]:
    from ..train.callbacks import EarlyStopping

    stop = EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(images[train], codes[train], batch_size=batch_size, epochs=epochs, seed=seed,
                        validation_data=(images[val], codes[val]), callbacks=[stop], verbose=int(progress))
    return {"epochs_run": len(history.history["loss"]), "best_epoch": None if stop.best_epoch is None
            else stop.best_epoch + 1, "history": {k: [round(v, 4) for v in vs] for k, vs in history.history.items()}}


def _result(y, held, probabilities, classes, train, val, fitted, seed: int) -> dict[str, Any]:
    """The test set's metrics with 95% bootstrap intervals, beside the training majority class's."""
    y_test = y[held]
    with_interval = bootstrap(CLASSES, y_test, classes, seed)
    majority = np.zeros_like(probabilities)
    majority[:, np.searchsorted(classes, max(set(y[train]), key=list(y[train]).count))] = 1.0
    return {"kind": CLASSES, "n_train": int(len(train)), "n_validation": int(len(val)), "n_test": int(len(held)),
            "folds": None, "split": "a stratified random test set", "grouped": False,
            "classes": [str(c) for c in classes], "metrics": with_interval(probabilities),
            "baseline": with_interval(majority), "learning_curve": [], "training": fitted,
            "oof": probabilities, "y": y_test, "rows": held}


def _save(model, processor, out: Path, backbone: str, labels, result: dict[str, Any], fitted: dict[str, Any]) -> None:
    """The network and its card (sha256 in it): EfficientNet-Lite as ONNX (the bundled graph with the new
    weights); a hub model as ``save_pretrained`` writes it (safetensors), with its image processor."""
    from ..models.card import WeightsSource

    out.mkdir(parents=True, exist_ok=True)
    module = model.module.eval()
    if processor is None:
        from ..models.efficientnet import EFFICIENTNET_LITE0
        from ..models.efficientnet_torch import write_onnx

        weights = write_onnx(module, out / "model.onnx")
        config = {**EFFICIENTNET_LITE0.config, "finetuned_from": backbone,
                  "backbone_sha256": EFFICIENTNET_LITE0.weights.sha256}
        license = "the license of the labels and images it was learned from, and Apache-2.0 for the backbone"
    else:
        module.inner.save_pretrained(out)  # safetensors
        processor.save_pretrained(out)
        weights = out / "model.safetensors"
        config = {**model.card.config, "finetuned_from": backbone, "backbone_commit": model.card.config.get("commit")}
        license = f"the license of the labels and images it was learned from, and {backbone}'s"
    lines = ("\t".join(map(str, row)) for row in labels.itertuples(index=False))
    card = dataclasses.replace(
        model.card, name=out.name or "finetuned", description=f"{backbone} fine-tuned by imagevars learn --finetune",
        license=license, config=config, weights=WeightsSource(filename=weights.name, sha256=sha256_file(weights)),
        training={"n": int(len(labels)), "data_sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
                  "test": {m: v for m, v in result["metrics"].items()}, **fitted})
    text = json.dumps(card.to_dict(), indent=2, default=str) + "\n"
    atomic_write(out / "card.json", lambda tmp: Path(tmp).write_text(text))
