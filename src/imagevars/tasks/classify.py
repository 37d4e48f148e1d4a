"""``classify``: what a pretrained image classifier says each image shows. The codebook.

The default model is the bundled EfficientNet-Lite0 (``efficientnet-lite0``, ImageNet's 1,000
classes, offline; see its card). Each image is decoded with EXIF orientation applied, converted
to RGB (transparency on white), and its central square (87.5% of the shorter side, as ImageNet
evaluation crops) resized to 224 x 224; the network's softmax gives one probability per class.

Columns (``classify_`` + name), k = 1 .. ``top``, c = each class named with ``classes``:

=================  =========================================================================
top{k}_label       the k-th most probable class (ImageNet's WordNet names: "Egyptian cat")
top{k}_score       its probability, in [0, 1]; the probabilities of all classes add up to 1
p_{c}              the probability of class c (its name in lower case, other characters as
                   ``_``), for the classes a study cares about: ``classes=("tabby", "tiger cat")``
=================  =========================================================================

ImageNet's classes are objects, animals and scenes as photographed for the 2012 challenge; an
image of something outside them still gets its most similar classes, so read low top-1 scores
as "none of these". A probability of one class is not calibrated for another population of
images: validate it against human coding before using it as a measure.

Defaults: ``top`` 5, no ``classes``. All parameters are recorded in the provenance of every table.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np

from .base import Option, Task, comma_list, copies_per_worker

_MODEL = "efficientnet-lite0"


def class_column(label: str) -> str:
    """A class name as a column name part: lower case, anything but letters and digits as ``_``.

    Example:
        >>> class_column("Egyptian cat"), class_column("crane (n02012849)")
        ('egyptian_cat', 'crane_n02012849')
    """
    return re.sub(r"[^0-9a-z]+", "_", label.lower()).strip("_")


def prepare(decoded, side: int, crop: float) -> np.ndarray:
    """The task's preprocessor (in the decode workers): the central crop at ``side`` px, uint8 RGB."""
    from ..models.efficientnet import center_crop

    return center_crop(decoded.rgb, side, crop)


class CenterCropTask(Task):
    """A task run by one registered ImageNet-style model (``self.card``) on the central crop of each image."""

    card: Any
    side: int = 224

    def provenance(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "params": self.params(),
            "model": self.card.name,
            "weights_sha256": self.card.weights.sha256 if self.card.weights else None,
        }
        model = getattr(self, "model", None)
        if hasattr(model, "provenance"):  # hub models: repo, requested revision, commit loaded, their weights' sha256
            out["hub"] = model.provenance()
            out["weights_sha256"] = out["weights_sha256"] or out["hub"].get("weights_sha256")
        return out

    def preprocessor(self):
        return functools.partial(prepare, side=self.side, crop=self.card.config.get("crop", 0.875))


class ClassifyTask(CenterCropTask):
    """ImageNet classes of each image (see the module docstring: the codebook).

    Args:
        model: a registered classifier (default the bundled ``efficientnet-lite0``).
        top: how many of the most probable classes to report (0 .. 20).
        classes: class names whose probabilities become columns (``p_<name>``), exactly as the
            model names them (``imagevars models efficientnet-lite0 --json`` lists them).
        threads: onnxruntime threads (default ``IMAGEVARS_THREADS`` or the cores available).

    Example:
        >>> import imagevars
        >>> imagevars.run([ClassifyTask(classes=["tabby", "tiger cat"])], "PHOTOS/").to_pandas()  # doctest: +SKIP
    """

    name = "classify"
    max_side = 2 * 224  # JPEGs decode at reduced size down to this, then crop and resize
    options = (
        Option(
            "--model",
            "model",
            str,
            "classify: a registered classifier (default: the bundled efficientnet-lite0), "
            "hf:<owner>/<name>, or a folder written by imagevars learn",
        ),
        Option("--top", "top", int, "classify: how many of the most probable classes to report (default 5)"),
        Option(
            "--classes",
            "classes",
            comma_list,
            "classify: class names whose probabilities become columns, comma-separated",
        ),
    )

    def __init__(
        self, model: str = _MODEL, top: int = 5, classes: tuple[str, ...] | list[str] = (), threads: int | None = None
    ):
        from ..models import linear_probe
        from ..models.registry import create_model

        if not 0 <= top <= 20:
            raise ValueError(f"top must be between 0 and 20, got {top}")
        self.model_name, self.top, self.classes, self.heads = str(model), top, tuple(classes), None
        from ..models.efficientnet import is_onnx_folder, open_folder
        from ..models.hf_classify import HubClassifier, is_hub_classifier
        from ..train.mnist_cards import is_trained_folder

        if linear_probe.is_measure(model):  # a measure learned with `imagevars learn`
            self.measure, self.heads = linear_probe.load(model)
            if self.classes:
                raise ValueError(f"{model} is a learned measure: its columns are its targets; leave --classes out")
            self.model, self.card = _backbone(self.measure.config["backbone"], threads)
        elif is_onnx_folder(model):  # fine-tuned with `imagevars learn --finetune`
            self.model = open_folder(model, threads=threads)
            self.card = self.model.card
            _check_classes(self.card, self.classes)
        elif is_trained_folder(model):  # trained by imagevars train or built with imagevars.Sequential
            from ..train.loading import ImagePredictor

            self.model = ImagePredictor(model, threads=threads)
            self.card = self.model.card
            _check_classes(self.card, self.classes)
        elif is_hub_classifier(str(model)):  # hf:<owner>/<name>[@revision] or a save_pretrained folder
            self.model = HubClassifier(str(model), threads=threads)
            self.card = self.model.card
            _check_classes(self.card, self.classes)
        else:
            self.card = _imagenet_card(model, self.classes)
            self.model = create_model(self.card.name, pretrained=True, threads=threads)
        self.side = self.card.input_size[0]
        self.max_side = 2 * self.side
        self.per_worker = copies_per_worker(self.model, threads)
        if self.heads is None:
            self.top = min(self.top, len(self.card.labels))  # a two-class model has two columns of ranks, not five

    def params(self) -> dict[str, Any]:
        if self.heads is not None:
            return {"model": self.model_name}
        return {"model": self.model_name, "top": self.top, "classes": list(self.classes)}

    def provenance(self) -> dict[str, Any]:
        out = super().provenance()
        if self.heads is not None:
            from ..models.linear_probe import describe

            out.update(
                model=self.measure.name, weights_sha256=self.measure.weights.sha256, measure=describe(self.measure)
            )
        return out

    def fields(self) -> list:
        import pyarrow as pa

        f = []
        if self.heads is not None:  # a learned measure: per target, its answer and each class's probability
            for h in self.heads:
                if h.kind == "number":
                    f.append((h.target, pa.float64()))
                else:
                    f += [(h.target, pa.string())] + [
                        (f"{h.target}_p_{class_column(k)}", pa.float64()) for k in h.classes
                    ]
            return [pa.field(f"classify_{n}", t) for n, t in f]
        for k in range(1, self.top + 1):
            f += [(f"top{k}_label", pa.string()), (f"top{k}_score", pa.float64())]
        f += [(f"p_{class_column(c)}", pa.float64()) for c in self.classes]
        return [pa.field(f"classify_{n}", t) for n, t in f]

    def __call__(self, batch: list[np.ndarray]) -> dict[str, list]:
        out: dict[str, list] = {f.name: [] for f in self.fields()}
        if not batch:
            return out
        probabilities, features = self.model.predict(np.stack(batch))
        if self.heads is not None:
            return self._measured(features, out)
        labels = self.card.labels
        index = {c: labels.index(c) for c in self.classes}
        for p in probabilities:
            order = np.argsort(-p, kind="stable")[: self.top]
            for k, i in enumerate(order, 1):
                out[f"classify_top{k}_label"].append(labels[i])
                out[f"classify_top{k}_score"].append(float(p[i]))
            for c, i in index.items():
                out[f"classify_p_{class_column(c)}"].append(float(p[i]))
        return out

    def _measured(self, features: np.ndarray, out: dict[str, list]) -> dict[str, list]:
        for h in self.heads:
            pred = h.predict(features)
            if h.kind == "number":
                out[f"classify_{h.target}"] = [float(v) for v in pred]
                continue
            out[f"classify_{h.target}"] = [h.classes[i] for i in pred.argmax(1)]
            for j, k in enumerate(h.classes):
                out[f"classify_{h.target}_p_{class_column(k)}"] = [float(v) for v in pred[:, j]]
        return out


def _backbone(spec: str, threads: int | None):
    """(model, card) of a learned measure's backbone: registered, or from the hub at the commit it learned from."""
    from ..models.hf_classify import is_hub_classifier
    from ..models.registry import create_model, get_card

    if is_hub_classifier(spec):
        from ..models.hf_backbone import HubBackbone

        model = HubBackbone(spec, threads=threads)
        return model, model.card
    return create_model(spec, pretrained=True, threads=threads), get_card(spec)


def _imagenet_card(model: str, classes: tuple[str, ...]):
    """The card of a registered ImageNet-style classifier, with ``classes`` checked against its labels."""
    from ..models.registry import get_card, list_models

    if model not in list_models() or get_card(model).task != "classify":
        names = [n for n in list_models() if get_card(n).task == "classify"]
        raise ValueError(
            f"no image classifier {model!r}; registered: {', '.join(names)}, hf:<owner>/<name>, a "
            "save_pretrained folder, or a folder written by imagevars learn"
        )
    card = get_card(model)
    if card.config.get("format") != "onnx":
        raise ValueError(
            f"{model} is trained from scratch on its own data: save it (model.save('my-net/')) and "
            "pass the folder, or evaluate it with imagevars eval"
        )
    _check_classes(card, classes)
    return card


def _check_classes(card, classes: tuple[str, ...]) -> None:
    unknown = [c for c in classes if c not in card.labels]
    if unknown:
        close = [lab for lab in card.labels if any(u.lower() in lab.lower() for u in unknown)][:8]
        raise ValueError(f"{card.name} has no class {unknown[0]!r}" + (f"; close: {', '.join(close)}" if close else ""))
