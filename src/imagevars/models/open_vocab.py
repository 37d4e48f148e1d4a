"""Open-vocabulary object detectors: boxes for whatever classes are named in words (OWLv2, Grounding DINO).

Any model transformers loads with ``AutoModelForZeroShotObjectDetection`` can stand behind
``imagevars run detect --classes "logo, price tag"``: a carded name below (pinned to a hub
commit), ``hf:<owner>/<name>[@revision]``, or a folder saved with ``save_pretrained``; offline-aware
like the other hub models (:mod:`imagevars.models.hub`).

Images arrive letterboxed: the longer side scaled to the model's input side, the rest filled with
grey below or to the right (OWLv2's own preprocessing; Grounding DINO keeps the aspect ratio too).
Every box the model proposes gets the named class it scores highest on:

* OWLv2 / OWL-ViT: the sigmoid of the box's similarity to each class's text query;
* Grounding DINO: the mean over the class's tokens of the sigmoid token scores, in a prompt of the
  classes joined as ``"logo. price tag."`` (the original's positive-map evaluation).

The 100 highest-scoring boxes are returned, as x1, y1, x2, y2 in input-side pixels, score, class
index, like every detector :mod:`imagevars.tasks.detect` runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .card import ModelCard, hub_card
from .hub import open_hub_model, processor_side
from .identity import hub_sha256
from .registry import register_model

TOP = 100  # boxes kept per image, highest scores first (as the bundled CenterNet's 100)


class OpenVocabError(RuntimeError):
    pass


def _card(name: str, repo: str, revision: str, side: int, citation: str, description: str) -> ModelCard:
    return hub_card(
        name,
        repo,
        task="detect",
        side=side,
        revision=revision,
        scale=1.0,
        architecture="transformers-zero-shot-object-detection",
        config={"open_vocabulary": True},
        license="Apache-2.0",
        citation=citation,
        description=description,
    )


OPEN_VOCAB_DETECTORS = [
    _card(
        "owlv2-base",
        "google/owlv2-base-patch16-ensemble",
        "cfd3195ba4ea9592eec887ded089f4c08eff231d",
        960,
        "Minderer, Gritsenko & Houlsby (2023), Scaling open-vocabulary object detection, NeurIPS.",
        "OWLv2 base (ensemble): finds the classes you name in words (--classes); the default then (hub; internet once)",
    ),
    _card(
        "grounding-dino-tiny",
        "IDEA-Research/grounding-dino-tiny",
        "a2bb814dd30d776dcf7e30523b00659f4f141c71",
        800,
        "Liu et al. (2024), Grounding DINO: marrying DINO with grounded pre-training for open-set object "
        "detection, ECCV.",
        "Grounding DINO tiny: open-vocabulary detection from a text prompt (--classes) (hub; internet once)",
    ),
]


def parse_classes(classes: str | Sequence[str]) -> tuple[str, ...]:
    """Class names from ``"logo, price tag"`` or a list: stripped, none empty, none twice.

    Example:
        >>> parse_classes(" logo, price tag ,shopping bag")
        ('logo', 'price tag', 'shopping bag')
    """
    names = [c.strip() for c in (classes.split(",") if isinstance(classes, str) else classes)]
    if not names or any(not c for c in names):
        raise ValueError(f'--classes {classes!r}: name the classes separated by commas, e.g. "logo, price tag"')
    if len({c.lower() for c in names}) != len(names):
        raise ValueError(f"--classes {classes!r}: a class is named twice")
    return tuple(names)


class OpenVocabDetector:
    """An open-vocabulary detector for fixed ``classes``, with the bundled detector's interface
    (``labels``, ``side``, ``pad``, ``predict``, ``card``, ``provenance``)."""

    pad = True  # letterboxed input (see the module docstring)

    def __init__(
        self,
        spec: str,
        classes: str | Sequence[str],
        revision: str | None = None,
        card: ModelCard | None = None,
        threads: int | None = None,
        pretrained: bool = True,
    ):
        self.labels = parse_classes(classes)
        try:
            self.processor, self.model, self.commit = open_hub_model(
                spec,
                revision,
                "open-vocabulary detector",
                OpenVocabError,
                lambda t: t.AutoModelForZeroShotObjectDetection,
                processor_class=lambda t: t.AutoProcessor,
                pretrained=pretrained,
                threads=threads,
                purpose="open-vocabulary detection",
            )
        except ValueError as exc:  # transformers: not a zero-shot object detection configuration
            raise OpenVocabError(
                f"{spec} is not an open-vocabulary (zero-shot) object detector such as OWLv2 or "
                f"Grounding DINO: {str(exc).splitlines()[0]}"
            ) from None
        self.spec, self.revision = spec, revision
        self.grounding = "GroundingDino" in type(self.model).__name__
        self.side = processor_side(self.processor.image_processor, 960)
        base = card or ModelCard(
            name=f"hf:{spec}",
            task="detect",
            labels=(),
            input_size=(self.side,) * 2 + (3,),
            scale=1.0,
            architecture=type(self.model).__name__,
            config={"hf_repo": spec},
        )
        self.card = ModelCard.from_dict({**base.to_dict(), "labels": self.labels})
        if self.grounding:
            self.prompt, self.spans = grounding_prompt(self.processor.tokenizer, self.labels)

    def provenance(self) -> dict[str, Any]:
        return {
            "hf_repo": self.spec,
            "revision": self.revision,
            "commit": self.commit,
            "architecture": type(self.model).__name__,
            "weights_sha256": hub_sha256(self.spec, self.revision),
            "classes": list(self.labels),
            **({"prompt": self.prompt} if self.grounding else {}),
        }

    def class_scores(self, images: np.ndarray):
        """(boxes as cx, cy, w, h in [0, 1], per-class scores in [0, 1]) for (N, side, side, 3) uint8 images."""
        import torch

        n = len(images)
        if self.grounding:
            inputs = self.processor(images=list(images), text=[self.prompt] * n, return_tensors="pt")
        else:
            inputs = self.processor(images=list(images), text=[list(self.labels)] * n, return_tensors="pt")
        with torch.inference_mode():
            out = self.model(**inputs.to(self.model.device))
        probs = torch.sigmoid(out.logits.float())
        if self.grounding:  # tokens -> classes: the mean over each class's tokens
            probs = torch.stack([probs[..., a:b].mean(-1) for a, b in self.spans], -1)
        return out.pred_boxes.float().cpu(), probs.cpu()

    def predict(self, images: np.ndarray) -> list[np.ndarray]:
        images = np.asarray(images)
        if not len(images):
            return []
        boxes, probs = self.class_scores(images)
        score, cls = probs.max(-1)
        cx, cy, w, h = boxes.unbind(-1)
        xyxy = np.stack([(cx - w / 2).numpy(), (cy - h / 2).numpy(), (cx + w / 2).numpy(), (cy + h / 2).numpy()], -1)
        out = []
        for i in range(len(images)):
            det = np.column_stack([xyxy[i] * self.side, score[i].numpy(), cls[i].numpy()]).astype(np.float32)
            out.append(det[np.argsort(-det[:, 4], kind="stable")[:TOP]])
        return out


def grounding_prompt(tokenizer, classes: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """Grounding DINO's prompt (``"logo. price tag."``, lower case) and each class's token span [a, b).

    Example:
        >>> from transformers import AutoTokenizer  # doctest: +SKIP
        >>> grounding_prompt(AutoTokenizer.from_pretrained("bert-base-uncased"), ["cat", "price tag"])  # doctest: +SKIP
        ('cat. price tag.', [(1, 2), (3, 5)])
    """
    prompt, chars = "", []
    for c in classes:
        chars.append((len(prompt), len(prompt) + len(c)))
        prompt += c.lower() + ". "
    prompt = prompt.strip()
    offsets = tokenizer(prompt, return_offsets_mapping=True)["offset_mapping"]
    spans = []
    for (a, b), name in zip(chars, classes):
        tokens = [i for i, (s, e) in enumerate(offsets) if e > s and s >= a and e <= b]
        if not tokens:
            raise OpenVocabError(f"class {name!r} gives the detector's tokenizer no tokens: name it in plain words")
        if tokens[-1] >= 256:
            raise OpenVocabError("the classes are too long for Grounding DINO's 256-token prompt; name fewer")
        spans.append((tokens[0], tokens[-1] + 1))
    return prompt, spans


def _builder(card: ModelCard):
    def build(
        card: ModelCard = card,
        weights: str | None = None,
        pretrained: bool = True,
        threads: int | None = None,
        classes: str | Sequence[str] | None = None,
    ) -> OpenVocabDetector:
        if not classes:
            raise ValueError(f'{card.name} finds the classes you name: give them, e.g. --classes "logo, price tag"')
        return OpenVocabDetector(
            weights or card.config["hf_repo"],
            classes,
            revision=card.weights.revision,
            card=card,
            threads=threads,
            pretrained=pretrained,
        )

    return build


for _card_ in OPEN_VOCAB_DETECTORS:
    register_model(_card_)(_builder(_card_))


def save_random_owlv2(folder: str | Path, side: int = 64, seed: int = 0) -> Path:
    """A tiny randomly initialised OWLv2 with a byte-level CLIP tokenizer, saved as a hub snapshot would be:
    for tests of the open-vocabulary path (the architecture is real, the weights are not).

    Example:
        >>> save_random_owlv2(tmp)  # doctest: +SKIP
    """
    import torch
    import transformers

    from .clip import byte_tokenizer

    folder = Path(folder)
    tok = byte_tokenizer(folder, 16)
    n = len(tok.get_vocab())
    images = transformers.Owlv2ImageProcessor(size={"height": side, "width": side})
    transformers.Owlv2Processor(image_processor=images, tokenizer=tok).save_pretrained(folder)
    text = dict(
        vocab_size=n,
        bos_token_id=n - 2,
        eos_token_id=n - 1,
        pad_token_id=n - 1,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=16,
    )
    vision = dict(
        hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=side, patch_size=16
    )
    torch.manual_seed(seed)
    config = transformers.Owlv2Config(text_config=text, vision_config=vision, projection_dim=16)
    model = transformers.Owlv2ForObjectDetection(config).eval()
    with torch.no_grad():  # logits = the cosine similarity itself, so random scores do not saturate at 0 or 1
        for layer in (model.class_head.logit_shift, model.class_head.logit_scale):
            layer.weight.zero_()
            layer.bias.zero_()
    model.save_pretrained(folder)
    return folder


def save_random_grounding_dino(folder: str | Path, side: int = 64, seed: int = 0) -> Path:
    """A tiny randomly initialised Grounding DINO (Swin and BERT of a few channels, a letter-by-letter WordPiece
    vocabulary), saved as a hub snapshot would be: for tests of the open-vocabulary path.

    Example:
        >>> save_random_grounding_dino(tmp)  # doctest: +SKIP
    """
    import string

    import torch
    import transformers

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    words = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        ".",
        *string.ascii_lowercase,
        *("##" + c for c in string.ascii_lowercase),
    ]
    tok = transformers.BertTokenizerFast(vocab={w: i for i, w in enumerate(words)}, do_lower_case=True)
    images = transformers.GroundingDinoImageProcessor(size={"shortest_edge": side, "longest_edge": side})
    transformers.GroundingDinoProcessor(image_processor=images, tokenizer=tok).save_pretrained(folder)
    swin = dict(
        model_type="swin",
        image_size=side,
        patch_size=4,
        embed_dim=8,
        depths=[1, 1, 1],
        num_heads=[1, 1, 1],
        window_size=4,
        out_features=["stage1", "stage2", "stage3"],
    )
    bert = dict(
        model_type="bert",
        vocab_size=len(words),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=256,
    )
    config = transformers.GroundingDinoConfig(
        backbone_config=swin,
        text_config=bert,
        d_model=32,
        num_queries=12,
        encoder_layers=1,
        decoder_layers=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        num_feature_levels=3,
        encoder_n_points=2,
        decoder_n_points=2,
    )
    torch.manual_seed(seed)
    transformers.GroundingDinoForObjectDetection(config).eval().save_pretrained(folder)
    return folder
