"""Image classifiers from the Hugging Face hub through transformers (ViT, ConvNeXt, BEiT, your fine-tuned ones ...).

Any model that ``AutoModelForImageClassification`` loads can stand behind the ``classify`` task:
``hf:<owner>/<name>[@revision]`` or a local folder written by ``save_pretrained``. Weights
download once into the Hugging Face cache under ``$IMAGEVARS_HOME/hf`` (or ``$HF_HOME``); with
``IMAGEVARS_OFFLINE=1`` or ``HF_HUB_OFFLINE=1`` only the cache and local folders are used, and a
missing model raises an error saying how to get it. The commit loaded is recorded in the provenance.

Images arrive as the task's central crop at the model's input size; the model's own image
processor then normalises them as the model was trained.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .card import ModelCard
from .hub import open_hub_model, processor_side, split_spec
from .identity import hub_sha256


class HubClassifierError(RuntimeError):
    pass


def is_hub_classifier(spec: str) -> bool:
    """``hf:<owner>/<name>[@revision]``, or a folder that holds a transformers model (config.json, and no
    imagevars card.json, or one that says ``transformers``: a model ``imagevars learn --finetune`` wrote)."""
    if spec.startswith("hf:"):
        return True
    folder = Path(spec)
    if not (folder.is_dir() and (folder / "config.json").is_file()):
        return False
    return not (folder / "card.json").exists() or _card(folder).get("config", {}).get("format") == "transformers"


def _card(folder: Path) -> dict:
    import json

    return json.loads((folder / "card.json").read_text())


class HubClassifier:
    """A transformers image classifier with the bundled classifier's interface.

    ``predict`` takes (N, side, side, 3) uint8 RGB and returns (probabilities (N, K), None).

    Example:
        >>> clf = HubClassifier("hf:google/vit-base-patch16-224")  # doctest: +SKIP
        >>> clf.labels[:2]  # doctest: +SKIP
        ('tench, Tinca tinca', 'goldfish, Carassius auratus')
    """

    def __init__(self, spec: str, threads: int | None = None):
        self.spec = spec
        self.repo, self.revision = split_spec(spec[3:] if spec.startswith("hf:") else spec)
        if (Path(spec) / "card.json").is_file():  # fine-tuned by imagevars: the weights are the ones its card names
            from .weights import verified_file

            weights = _card(Path(spec))["weights"]
            verified_file(Path(spec) / weights["filename"], weights["sha256"], spec)
        self.processor, self.model, self.commit = open_hub_model(
            self.repo,
            self.revision,
            "image classifier",
            HubClassifierError,
            lambda t: t.AutoModelForImageClassification,
            threads=threads,
        )
        id2label = self.model.config.id2label
        self.labels = tuple(str(id2label[i]) for i in sorted(id2label))
        side = processor_side(self.processor, 224)
        self.card = ModelCard(
            name=spec,
            task="classify",
            labels=self.labels,
            input_size=(side, side, 3),
            scale=1.0,
            architecture=type(self.model).__name__,
            config={"hf_repo": self.repo, "format": "transformers", "crop": 0.875},
        )

    def provenance(self) -> dict[str, Any]:
        return {
            "hf_repo": self.repo,
            "revision": self.revision,
            "commit": self.commit,
            "architecture": type(self.model).__name__,
            "weights_sha256": hub_sha256(self.repo, self.revision),
        }

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, None]:
        import torch

        images = np.asarray(images)
        if not len(images):
            return np.zeros((0, len(self.labels)), np.float32), None
        inputs = self.processor(images=list(images), return_tensors="pt").to(self.model.device)
        with torch.inference_mode():
            logits = self.model(**inputs).logits
        return torch.softmax(logits.float(), dim=-1).cpu().numpy(), None
