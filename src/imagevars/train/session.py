"""``imagevars train`` and ``imagevars eval``: a whole training run, from data to saved model and figures.

A run writes into its output folder::

    model/            model.safetensors, card.json (provenance), model.onnx
    right.png         one correctly classified test image per class
    wrong.png         one misclassified test image per class, true and predicted label shown
    confusion.png     confusion matrix on the test set
    history.png       learning curves
    metrics.json      test loss and accuracy, history, timings, skipped files

A folder of class subfolders is trained as :mod:`imagevars.train.folder_plan` says: batches and
epochs sized for at least 300 optimizer steps (``epochs`` overrides), a stratified random
validation share, early stopping that keeps the best epoch, per-class precision and recall in
``metrics.json``, and a warning when the test accuracy is not clearly above chance or the
validation set is too small.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..io.files import atomic_write
from .classifier import Classifier


@dataclass
class Report:
    """What a training or evaluation run produced."""

    model: Classifier
    test_loss: float
    test_accuracy: float
    correct: int
    total: int
    history: dict[str, list[float]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def load_training_data(data: str, seed: int, size: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Arrays and labels for ``data``: ``"mnist"``, ``"fashion-mnist"`` or a folder of class subfolders."""
    from ..datasets import fashion_mnist, folder, mnist

    if data in ("mnist", "fashion-mnist"):
        module = mnist if data == "mnist" else fashion_mnist
        (train_x, train_y), (test_x, test_y) = module.load_data(progress=progress)
        return {"name": data, "labels": module.LABELS, "train": (train_x, train_y), "test": (test_x, test_y),
                "size": 28, "channels": 1, "skipped": []}
    root = Path(data)
    if not root.is_dir():
        raise FileNotFoundError(
            f"{data} is neither a dataset name (mnist, fashion-mnist) nor a folder of class subfolders"
        )
    if (root / "train").is_dir() and (root / "test").is_dir():
        train = folder.load_folder(root / "train", size=size, progress=progress)
        test = folder.load_folder(root / "test", size=train.x.shape[1], channels=train.x.shape[3],
                                  classes=train.classes, progress=progress)
        skipped = train.skipped + test.skipped
    else:
        full = folder.load_folder(root, size=size, progress=progress)
        train, test = folder.split(full, 0.2, seed)
        skipped = full.skipped
    return {"name": root.name, "labels": train.classes, "train": (train.x, train.y), "test": (test.x, test.y),
            "size": train.x.shape[1], "channels": train.x.shape[3], "skipped": skipped}


def train(
    data: str = "mnist",
    recipe: str = "lecture",
    out: str | os.PathLike | None = None,
    *,
    seed: int = 0,
    epochs: int | None = None,
    size: int | None = None,
    onnx: bool = True,
    verbose: int = 1,
    command: str | None = None,
    augment: bool = True,
    model_file: str | os.PathLike | None = None,
    precision: str = "float32",
) -> Report:
    """Train the lecture's CNN on ``data`` with a named recipe; save the model, card, ONNX and figures.

    Args:
        data: ``"mnist"``, ``"fashion-mnist"``, or a folder with one subfolder per class.
        recipe: ``"lecture"``, ``"fast"`` or ``"bundled"`` (see :mod:`imagevars.train.recipes`).
        out: output folder (default ``runs/<data>-<recipe>-seed<seed>``).
        seed: seeds weights, shuffling, dropout and the train/test split: same seed, same machine,
            same result.
        epochs: override the recipe's number of epochs.
        size: image side for folders (default: chosen from the images, at most 64).
        onnx: also export and check an ONNX model.
        verbose: 0 silent, 1 progress bars and a summary.
        command: the command line to record in the card.
        model_file: a network of your own instead of the recipe's (a ``.py`` file that sets
            ``model = imagevars.Sequential([...])``, or a ``.yaml`` layer list); its input shape must
            be the data's and its last layer as wide as the data has classes.
        augment: for a folder, flip, crop and colour-jitter the training images each epoch (photos);
            ``False`` for images a mirror changes (digits, text). MNIST's recipes use none.
        precision: ``"float32"`` (Keras's default) or ``"mixed_bfloat16"`` (see
            :meth:`imagevars.train.Classifier.compile`); recorded in the card and ``metrics.json``.

    A folder is trained as the module's docstring says.

    Example:
        >>> from imagevars.train.session import train
        >>> report = train("mnist", recipe="fast", out="runs/fast")  # doctest: +SKIP
        >>> report.test_accuracy  # doctest: +SKIP
    """
    import torch

    from ..io import provenance
    from .recipes import get_recipe

    clock = provenance.begin()
    r = get_recipe(recipe, epochs=epochs)
    t0 = time.perf_counter()
    loaded = load_training_data(data, seed, size=size, progress=verbose > 0)
    t_data = time.perf_counter() - t0
    test_x, test_y = loaded["test"]
    out = Path(out or Path("runs") / f"{loaded['name']}-{r.name}-seed{seed}")
    r, model, fit, callbacks, folder_plan, train_x, train_y = _planned_fit(
        r, loaded, data, seed, verbose, epochs=epochs, augment=augment, model_file=model_file, precision=precision)
    t1 = time.perf_counter()
    history = model.fit(train_x, train_y, batch_size=r.batch_size, epochs=r.epochs, verbose=verbose,
                        callbacks=callbacks, seed=seed, **fit)
    t_fit = time.perf_counter() - t1
    probs = model.predict(test_x)
    test_loss, test_acc, correct = _scores(probs, test_y)
    t_eval = time.perf_counter() - t1 - t_fit
    said = _say_scores(model, probs, test_y, (test_loss, test_acc, correct), folder_plan and fit, data, verbose)
    record = {
        "command": command or f"imagevars.train.session.train({data!r}, recipe={recipe!r}, seed={seed}, epochs={epochs})",
        "data": data if loaded["name"] in ("mnist", "fashion-mnist") else str(Path(data).resolve()),
        "n_train": int(len(train_x)), "n_test": int(len(test_x)), "seed": seed, "recipe": r.to_dict(),
        "threads": torch.get_num_threads(), "test_loss": test_loss, "test_accuracy": test_acc,
        "test_correct": correct, "precision": precision,
        **(_folder_record(folder_plan, model, probs, test_y, said) if folder_plan is not None else {}),
    }
    seconds = {"data": t_data, "fit": t_fit, "evaluate": t_eval}
    files = _save_run(model, out, record, (test_x, test_y, probs), history.history, loaded["skipped"], seconds, clock,
                      onnx=onnx, seed=seed)
    seconds["total"] = time.perf_counter() - t0
    if verbose:
        _say_done(out, loaded["skipped"], seconds["total"])
    return Report(model, test_loss, test_acc, correct, len(test_y), history.history, files, seconds, loaded["skipped"])


def _planned_fit(r, loaded: dict, data: str, seed: int, verbose: int, *, epochs, augment: bool, model_file, precision: str):
    """The recipe as this data will be fitted, the compiled model, ``fit``'s arguments and callbacks, the folder's
    plan (None for MNIST's sets) and the rows to fit on (a folder holds out a stratified validation share)."""
    import dataclasses

    train_x, train_y = loaded["train"]
    folder_plan, fit = None, {"validation_split": r.validation_split}
    if loaded["name"] not in ("mnist", "fashion-mnist"):  # a user's folder: sized in steps, validated by class
        folder_plan, fit, train_x, train_y = _folder_fit(train_x, train_y, r.batch_size, epochs, augment, seed)
        r = dataclasses.replace(r, batch_size=folder_plan.batch_size, epochs=folder_plan.epochs, validation_split=0.0)
    model, callbacks = _compiled_model(r, loaded, data, seed, verbose, n_fit=len(train_x), model_file=model_file,
                                       precision=precision)
    if folder_plan is not None:
        model.augment, callbacks = fit.pop("augment"), [*callbacks, *fit.pop("callbacks")]
    return r, model, fit, callbacks, folder_plan, train_x, train_y


def _folder_record(folder_plan, model: Classifier, probs, test_y, said: list[str]) -> dict:
    """What a folder's run adds to the card and ``metrics.json``: its schedule, per-class scores and warnings."""
    from .folder_plan import per_class

    return {"schedule": folder_plan.to_dict(), "per_class": per_class(probs, test_y, model.labels), "warnings": said}


def _say_scores(model: Classifier, probs, test_y, scores: tuple, fit: dict | None, data: str, verbose: int) -> list[str]:
    """Print the test scores (and, for a folder, per-class precision and recall); the warnings a folder's run earns."""
    test_loss, test_acc, correct = scores
    said = []
    if fit is not None:
        from .folder_plan import warnings_for

        said = warnings_for(test_acc, test_y, fit["validation_data"][1], data)
    if verbose:
        print(f"Test loss: {test_loss:.4f}  Test accuracy: {test_acc:.4%} ({correct:,} of {len(test_y):,} correct)")
        if fit is not None:
            from .folder_plan import per_class

            for name, v in per_class(probs, test_y, model.labels).items():
                print(f"  {name}: precision {v['precision']:.1%}, recall {v['recall']:.1%} ({v['support']} test images)")
        for line in said:
            print(f"Warning: {line}")
    return said


def _save_run(model: Classifier, out: Path, record: dict, test: tuple, history: dict, skipped: list,
              seconds: dict, clock, *, onnx: bool, seed: int) -> dict[str, Path]:
    """Write the model, the figures and ``metrics.json`` (with the provenance); the files written."""
    from ..io import provenance

    t2 = time.perf_counter()
    model.save(out / "model", onnx=onnx, **record)
    files = {"model": out / "model"}
    files.update(_figures(model, *test, history, out, seed))
    seconds["save_and_figures"] = time.perf_counter() - t2
    seconds["total"] = sum(seconds.values())
    task = {"name": "train", "params": {"data": record["data"], "recipe": record["recipe"]["name"], "seed": seed,
                                        "epochs": record["recipe"]["epochs"], "precision": record["precision"]},
            "model": model.card.name, "weights_sha256": model.card.weights.sha256}
    metrics = {**record, "history": history, "seconds": seconds, "skipped": skipped,
               "provenance": provenance.record(clock, [task])}
    files["metrics"] = atomic_write(out / "metrics.json", lambda tmp: Path(tmp).write_text(json.dumps(metrics, indent=2) + "\n"))
    return files


def _folder_fit(train_x, train_y, batch_size: int, epochs: int | None, augment: bool, seed: int):
    """(plan, fit arguments, training x, training y) for a folder: a stratified validation share, early
    stopping on it that keeps the best epoch, and photo augmentation (unless ``augment`` is false)."""
    import torch

    from .augment import photo_augment
    from .callbacks import EarlyStopping
    from .folder_plan import VALIDATION, plan, stratified_validation

    fit_rows, val_rows = stratified_validation(train_y, VALIDATION, seed)
    p = plan(len(fit_rows), batch_size, epochs, augment)
    generator = torch.Generator().manual_seed(seed)
    fit = {"validation_data": (train_x[val_rows], train_y[val_rows]),
           "callbacks": [EarlyStopping("val_loss", patience=p.patience, restore_best_weights=True)],
           "augment": (lambda x: photo_augment(x, generator, min_area=0.85, jitter=0.1)) if augment else None}
    return p, fit, train_x[fit_rows], train_y[fit_rows]


def _own_model(model_file, loaded: dict):
    """The network in ``model_file``, checked against the data: input shape, and one output per class."""
    from .sequential import from_file

    model = from_file(model_file)
    want = (loaded["size"], loaded["size"], loaded["channels"])
    if tuple(model.card.input_size) != want:
        raise ValueError(f"--model-file {model_file}: the network takes {tuple(model.card.input_size)} images, the "
                         f"data are {want}: set InputLayer(input_shape={want})")
    if len(model.labels) != len(loaded["labels"]):
        raise ValueError(f"--model-file {model_file}: the last layer has {len(model.labels)} units, the data "
                         f"{len(loaded['labels'])} classes: end with Dense({len(loaded['labels'])}, activation='softmax')")
    return model.with_card(labels=tuple(str(x) for x in loaded["labels"]))


def _compiled_model(r, loaded: dict, data, seed: int, verbose: int, n_fit: int | None = None, model_file=None,
                    precision: str = "float32"):
    """The recipe's network for the data (labels, channels, size), seeded and compiled; its callbacks."""
    from ..models.registry import create_model
    from . import set_seed
    from .callbacks import LearningRateScheduler
    from .classifier import adam
    from .recipes import one_cycle

    set_seed(seed)
    if model_file is not None:
        model = _own_model(model_file, loaded)
    elif loaded["name"] == "mnist":
        model = create_model(r.model)
    else:
        model = create_model(r.model, labels=loaded["labels"], in_channels=loaded["channels"],
                             input_size=loaded["size"])
        model.with_card(name=loaded["name"], description=f"The lecture's CNN trained on {data}", citation="",
                        license="the license of the training images")
    if verbose:
        model.summary()
    optimizer = r.optimizer
    if r.optimizer == "adam":
        optimizer = lambda params: adam(params, lr=r.learning_rate, betas=r.betas)  # noqa: E731
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"], learning_rate=r.learning_rate,
                  precision=precision)
    callbacks = []
    if r.schedule == "onecycle":
        n_fit = n_fit or len(loaded["train"][0]) - int(len(loaded["train"][0]) * r.validation_split)
        steps = r.epochs * -(-n_fit // r.batch_size)
        callbacks.append(LearningRateScheduler(one_cycle(steps, r.learning_rate, r.warmup), per_batch=True))
    return model, callbacks


def _say_done(out: Path, skipped: list, seconds: float) -> None:
    if skipped:
        print(f"Skipped {len(skipped)} unreadable file(s), listed in {out / 'metrics.json'}:")
        for _, why in skipped[:5]:
            print(f"  {why}")
    print(f"Saved model, figures and metrics to {out}/ ({seconds:.1f} s in all)")


def _scores(probs: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    """Cross-entropy, accuracy and number correct from predicted probabilities (one pass over the test set)."""
    p_true = probs[np.arange(len(y)), y.astype(np.int64)].astype(np.float64)
    correct = int((probs.argmax(1) == y).sum())
    return float(-np.log(np.maximum(p_true, 1e-12)).mean()), correct / len(y), correct


def _figures(model: Classifier, test_x, test_y, probs, history, out: Path, seed: int) -> dict[str, Path]:
    from . import figures

    labels = model.labels
    return {
        "right": figures.gallery(test_x, test_y, probs, labels, True, out / "right.png", seed),
        "wrong": figures.gallery(test_x, test_y, probs, labels, False, out / "wrong.png", seed),
        "confusion": figures.plot_confusion(test_y, probs.argmax(1), labels, out / "confusion.png"),
        "history": figures.plot_history(history, out / "history.png"),
    }


def default_data(clf: Classifier) -> str | None:
    """The dataset a model was trained on, when its card says (MNIST for the digit models)."""
    recorded = clf.card.training.get("data")
    if recorded in ("mnist", "fashion-mnist") or (recorded and Path(recorded).is_dir()):
        return recorded
    return "mnist" if clf.card.name == "mnist-cnn" or clf.labels == tuple("0123456789") else None


def evaluate(model: str = "mnist-cnn", data: str | None = None, verbose: int = 1) -> Report:
    """Evaluate a registered model (pretrained) or a saved model folder on its test set.

    For ``mnist-cnn`` (and any model whose labels are the ten digits) the test set is MNIST's
    10,000 images; ``data`` may name another dataset or folder.

    Example:
        >>> from imagevars.train.session import evaluate
        >>> evaluate("mnist-cnn", verbose=0).correct  # doctest: +SKIP
        9925
    """
    from .loading import open_classifier

    clf = open_classifier(model)
    data = data or default_data(clf)
    if data is None:
        raise ValueError(f"say which data to evaluate {model!r} on (a dataset name or a folder)")
    split_seed = int(clf.card.training.get("seed", 0))  # a folder is split as it was in training
    loaded = load_training_data(data, seed=split_seed, size=clf.card.input_size[0], progress=verbose > 0)
    test_x, test_y = loaded["test"]
    if tuple(loaded["labels"]) != tuple(clf.labels) and data not in ("mnist", "fashion-mnist"):
        raise ValueError(f"{data} has classes {loaded['labels']}, the model has {clf.labels}")
    loss, acc, correct = _scores(clf.predict(test_x), test_y)
    if verbose:
        print(f"{clf.card.name} on the {data} test set: {correct:,} of {len(test_y):,} correct "
              f"(accuracy {acc:.2%}, loss {loss:.4f})")
    return Report(clf, loss, acc, correct, len(test_y))
