"""Object detectors from the Hugging Face hub through transformers (RT-DETR, D-FINE, DETR ...).

Any model that ``AutoModelForObjectDetection`` loads can stand behind the ``detect`` task: a
registered name below, ``hf:<owner>/<name>[@revision]``, or a local folder written by
``save_pretrained``. Weights download once into the Hugging Face cache under
``$IMAGEVARS_HOME/hf`` (or ``$HF_HOME`` when set); with ``IMAGEVARS_OFFLINE=1`` or
``HF_HUB_OFFLINE=1`` only the cache and local folders are used, and a missing model raises an
error saying how to get it. The commit actually loaded is recorded in the provenance.

Like the bundled detector, images arrive resized to ``side`` x ``side`` (the model's own input
size, from its image processor); detections come back in those pixel units, so the task's
variables and boxes are computed the same way for every detector.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .card import ModelCard, hub_card
from .hub import open_hub_model, processor_side, split_spec
from .identity import hub_sha256
from .labels import COCO_LABELS
from .registry import register_model


class HubDetectorError(RuntimeError):
    pass


def _hub_card(name: str, repo: str, description: str, citation: str) -> ModelCard:
    return hub_card(
        name,
        repo,
        task="detect",
        side=640,
        architecture="transformers-object-detection",
        labels=COCO_LABELS,
        scale=1.0,
        license="Apache-2.0 (see the model's page on the Hugging Face hub)",
        citation=citation,
        description=description,
    )


HUB_DETECTORS = [
    _hub_card(
        "rtdetr-r18",
        "PekingU/rtdetr_r18vd",
        "RT-DETR, ResNet-18 backbone, COCO (hub; internet once)",
        "Zhao et al. (2024), DETRs beat YOLOs on real-time object detection, CVPR.",
    ),
    _hub_card(
        "rtdetr-r50",
        "PekingU/rtdetr_r50vd",
        "RT-DETR, ResNet-50 backbone, COCO (hub; internet once)",
        "Zhao et al. (2024), DETRs beat YOLOs on real-time object detection, CVPR.",
    ),
    _hub_card(
        "dfine-n",
        "ustc-community/dfine-nano-coco",
        "D-FINE nano, COCO (hub; internet once)",
        "Peng et al. (2024), D-FINE: redefine regression task in DETRs, arXiv:2410.13842.",
    ),
    _hub_card(
        "dfine-s",
        "ustc-community/dfine-small-coco",
        "D-FINE small, COCO (hub; internet once)",
        "Peng et al. (2024), D-FINE: redefine regression task in DETRs, arXiv:2410.13842.",
    ),
]


class HubDetector:
    """A transformers object detector with the bundled detector's interface.

    ``predict`` takes (N, side, side, 3) uint8 RGB and returns, per image, a (k, 6) array:
    x1, y1, x2, y2 in ``side``-px units, score, class index into ``labels``.
    """

    def __init__(
        self,
        spec: str,
        revision: str | None = None,
        card: ModelCard | None = None,
        threads: int | None = None,
        pretrained: bool = True,
    ):
        self.processor, self.model, self.commit = open_hub_model(
            spec,
            revision,
            "detector",
            HubDetectorError,
            lambda t: t.AutoModelForObjectDetection,
            pretrained=pretrained,
            threads=threads,
            purpose="hub object detectors",
        )
        self.spec, self.revision = spec, revision
        id2label = self.model.config.id2label
        self.labels = tuple(str(id2label[i]) for i in sorted(id2label))
        self.side = processor_side(self.processor, 640)
        self.card = card or ModelCard(
            name=f"hf:{spec}",
            task="detect",
            labels=self.labels,
            input_size=(self.side, self.side, 3),
            scale=1.0,
            architecture=type(self.model).__name__,
            config={"hf_repo": spec},
        )

    def provenance(self) -> dict[str, Any]:
        return {
            "hf_repo": self.spec,
            "revision": self.revision,
            "commit": self.commit,
            "architecture": type(self.model).__name__,
            "weights_sha256": hub_sha256(self.spec, self.revision),
        }

    def predict(self, images: np.ndarray) -> list[np.ndarray]:
        import torch

        images = np.asarray(images)
        if not len(images):
            return []
        inputs = self.processor(images=list(images), return_tensors="pt").to(self.model.device)
        with torch.inference_mode():
            outputs = self.model(**inputs)
        sizes = [(images.shape[1], images.shape[2])] * len(images)
        results = self.processor.post_process_object_detection(outputs, threshold=0.0, target_sizes=sizes)
        out = []
        for r in results:
            det = np.column_stack(
                [
                    r["boxes"].float().cpu().numpy().reshape(-1, 4),
                    r["scores"].float().cpu().numpy(),
                    r["labels"].cpu().numpy().astype(np.float32),
                ]
            )
            out.append(det[np.argsort(-det[:, 4], kind="stable")].astype(np.float32))
        return out


def _builder(card: ModelCard):
    def build(card: ModelCard = card, weights: str | None = None, pretrained: bool = True, threads: int | None = None):
        return HubDetector(
            weights or card.config["hf_repo"],
            revision=card.weights.revision,
            card=card,
            threads=threads,
            pretrained=pretrained,
        )

    return build


for _card in HUB_DETECTORS:
    register_model(_card)(_builder(_card))


def open_detector(spec: str | None = None, threads: int | None = None, classes=None):
    """A detector from a registered name, ``hf:<owner>/<name>[@revision]``, or a local folder; with ``classes``
    (names in words), an open-vocabulary one (:mod:`imagevars.models.open_vocab`; default ``owlv2-base``).

    Example:
        >>> open_detector("centernet-mbv3-coco").labels[0]
        'person'
    """
    from .registry import create_model, get_card, list_models

    detector, options = HubDetector, {}
    if classes:
        from .open_vocab import OpenVocabDetector

        detector, options, spec = OpenVocabDetector, {"classes": classes}, spec or "owlv2-base"
        if spec in list_models() and not get_card(spec).config.get("open_vocabulary"):
            raise ValueError(
                f"{spec} finds a fixed set of classes; --classes needs an open-vocabulary detector: "
                "--model owlv2-base, grounding-dino-tiny, or hf:<owner>/<name> of a zero-shot detector"
            )
    spec = spec or "centernet-mbv3-coco"
    if spec in list_models():
        if get_card(spec).task != "detect":
            raise ValueError(f"{spec} is a {get_card(spec).task} model, not a detector; see imagevars models")
        return create_model(spec, pretrained=True, threads=threads, **options)
    if spec.startswith("hf:"):
        repo, revision = split_spec(spec[3:])
        return detector(repo, revision=revision, threads=threads, **options)
    if Path(spec).is_dir():
        return detector(spec, threads=threads, **options)
    raise KeyError(
        f"no detector {spec!r}: use a registered name ({', '.join(list_models())}), "
        "hf:<owner>/<name> for a hub model, or a folder saved with save_pretrained"
    )
