"""``clip`` and ``clip-embed``: any concept written in words as a variable, and the embeddings. The codebook.

A prompt file (YAML) defines constructs; ``--prompts`` takes a file or a shipped set
(``brand-personality``: Aaker's five dimensions; ``photo-quality``: six attribute contrasts;
``coco``: the 80 COCO objects)::

    templates: ["a photo of {}."]          # default for every construct; "{}" is the prompt
    constructs:
      luxury:
        prompts: {luxurious: "a luxurious living room"}   # name: text (or a list of texts)
        contrast: {plain: "a plain living room"}          # what the prompts compete against
        templates: ["{}"]                                  # optional, this construct only

Each prompt's text embedding is the normalised mean over its templates (the CLIP paper's
prompt ensembling). A construct needs at least two alternatives in all (prompts plus
contrast): with one, a probability would always be 1, so such a file is refused.

Columns (``clip_`` + name), for construct c and each of its prompts p:

==================  ========================================================================
sim_{c}_{p}         cosine similarity of the image and prompt embeddings, in [-1, 1]
prob_{c}_{p}        softmax over the construct's prompts and contrast of the model's
                    logit scale x similarity (CLIP's zero-shot probability)
score_{c}_{p}       CLIPScore = 2.5 x max(similarity, 0) (Hessel et al. 2021, EMNLP)
prob_{c}            sum of prob_{c}_{p} over the prompts: the construct against its contrast
                    (only when the construct has a contrast)
==================  ========================================================================

``backend="onnx"`` (CLI ``--clip-backend onnx``) runs the image encoder in ONNX Runtime: it is
exported once, cached under ``$IMAGEVARS_HOME/onnx``, and checked against torch at load (unit
embeddings within 1e-4; the difference is recorded in the provenance).

``clip-embed`` writes ``clip_emb``: the L2-normalised image embedding as a fixed-size list
(float32, or float16 with ``dtype="float16"``), for :func:`imagevars.search.search`. The model
id, revision and commit are in the provenance of both tasks.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import numpy as np

from .base import Option, Task

SHIPPED = Path(__file__).resolve().parent.parent / "prompts"


def load_prompts(spec: str | Path | dict) -> dict[str, dict[str, Any]]:
    """Constructs from a YAML file, a shipped set's name, or a dict: {construct: {prompts, contrast, templates}}.

    Example:
        >>> sorted(load_prompts("photo-quality"))[:2]
        ['brightness', 'colorfulness']
    """
    if isinstance(spec, dict):
        data = spec
    else:
        path = Path(spec)
        if not path.exists() and (SHIPPED / f"{spec}.yaml").exists():
            path = SHIPPED / f"{spec}.yaml"
        if not path.exists():
            shipped = ", ".join(sorted(p.stem for p in SHIPPED.glob("*.yaml")))
            raise FileNotFoundError(f"no prompt file {spec}: pass a YAML file or a shipped set ({shipped})")
        import yaml

        try:
            data = yaml.safe_load(path.read_text()) or {}  # safe_load: tags that would build objects are refused
        except yaml.YAMLError as exc:
            raise ValueError(f"the prompt file {path} is not valid YAML: {' '.join(str(exc).split())[:200]}") from None
    constructs = data.get("constructs") if isinstance(data, dict) else None
    if constructs is not None and not isinstance(constructs, dict):
        raise ValueError(
            f"the prompt file {spec if not isinstance(spec, dict) else ''}: `constructs` must map names "
            "to prompts: `constructs: {name: {prompts: [...], contrast: [...]}}`"
        )
    if not constructs:
        raise ValueError(
            f"the prompt file {spec if not isinstance(spec, dict) else ''} defines no constructs: "
            "write `constructs: {name: {prompts: [...], contrast: [...]}}`"
        )
    default_templates = list(data.get("templates") or ["a photo of {}."])
    out: dict[str, dict[str, Any]] = {}
    for name, c in constructs.items():
        c = c if isinstance(c, dict) else {"prompts": c}
        prompts, contrast = _named(c.get("prompts"), name), _named(c.get("contrast"), name)
        if not prompts:
            raise ValueError(f"construct {name!r} has no prompts")
        if len(prompts) + len(contrast) < 2:
            raise ValueError(
                f"construct {name!r} has one prompt and no contrast: its probability would always be 1. "
                "Add a contrast (e.g. contrast: ['a photo']) or more prompts"
            )
        clash = set(prompts) & set(contrast)
        if clash:
            raise ValueError(f"construct {name!r}: {sorted(clash)} named both as prompt and contrast")
        templates = list(c.get("templates") or default_templates)
        bad = [t for t in templates if "{}" not in t]
        if bad:
            raise ValueError(f"construct {name!r}: template {bad[0]!r} has no '{{}}' for the prompt")
        out[_slug(name)] = {"prompts": prompts, "contrast": contrast, "templates": templates}
    return out


def _named(value, construct: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple, dict)):
        raise ValueError(
            f"construct {construct!r}: prompts are a list of texts or a mapping name: text, not {type(value).__name__}"
        )
    items = value.items() if isinstance(value, dict) else ((_slug(v), v) for v in value)
    out: dict[str, str] = {}
    for k, v in items:
        k = _slug(k)
        if k in out:
            raise ValueError(f"construct {construct!r}: two prompts named {k!r}; give them names (name: text)")
        out[k] = str(v)
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")[:40] or "prompt"


def prepare(decoded, side: int):
    """Worker side: RGB shrunk so its shorter side is ``side`` (the processor crops from there)."""
    from PIL import Image

    h, w = decoded.rgb.shape[:2]
    if min(h, w) <= side:
        return decoded.rgb
    scale = side / min(h, w)
    img = Image.fromarray(decoded.rgb).resize(
        (max(side, round(w * scale)), max(side, round(h * scale))), Image.Resampling.BICUBIC
    )
    return np.asarray(img)


_MODEL = Option(
    "--clip-model", "model", str, "clip, clip-embed: hub id[@revision] or folder (default openai/clip-vit-base-patch32)"
)
_BACKEND = Option(
    "--clip-backend",
    "backend",
    str,
    "clip, clip-embed: run the image encoder in torch (default) or ONNX Runtime",
    choices=("torch", "onnx"),
)


class _ClipBase(Task):
    options = (_MODEL, _BACKEND)

    def __init__(self, model: str | None = None, threads: int | None = None, backend: str = "torch"):
        from ..models.clip import DEFAULT_CLIP, ClipModel

        self.model_spec = model or DEFAULT_CLIP
        self.model = ClipModel(self.model_spec, threads=threads, backend=backend)
        self.max_side = 4 * self.model.image_side

    def preprocessor(self):
        return functools.partial(prepare, side=self.model.image_side)

    def provenance(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": self.params(),
            "model": self.model_spec,
            "weights_sha256": (hub := self.model.provenance()).get("weights_sha256"),
            "hub": hub,
        }


class ClipEmbedTask(_ClipBase):
    """Image embeddings (``clip_emb``), normalised, for search and your own models.

    Example:
        >>> imagevars.run(["clip-embed"], "PHOTOS/", "emb.parquet")  # doctest: +SKIP
    """

    name = "clip-embed"

    def __init__(
        self, model: str | None = None, dtype: str = "float32", threads: int | None = None, backend: str = "torch"
    ):
        if dtype not in ("float32", "float16"):
            raise ValueError(f"dtype must be 'float32' or 'float16', got {dtype!r}")
        super().__init__(model, threads, backend)
        self.dtype = dtype

    def params(self) -> dict[str, Any]:
        return {"model": self.model_spec, "dtype": self.dtype, "backend": self.model.backend}

    def fields(self) -> list:
        import pyarrow as pa

        t = pa.float16() if self.dtype == "float16" else pa.float32()
        return [pa.field("clip_emb", pa.list_(t, self.model.dim))]

    def __call__(self, batch: list[np.ndarray]) -> dict[str, list]:
        import pyarrow as pa

        emb = self.model.embed_images(batch).astype(self.dtype)
        flat = pa.array(emb.reshape(-1), pa.float16() if self.dtype == "float16" else pa.float32())
        return {"clip_emb": pa.FixedSizeListArray.from_arrays(flat, self.model.dim).to_pylist()}


class ClipTask(_ClipBase):
    """Zero-shot scores for the constructs of a prompt file (see the module docstring: the codebook).

    Example:
        >>> imagevars.run([ClipTask(prompts="brand-personality")], "PHOTOS/").to_pandas()  # doctest: +SKIP
    """

    name = "clip"
    options = (
        Option(
            "--prompts",
            "prompts",
            str,
            "clip: a YAML prompt file or a shipped set (brand-personality, photo-quality (default), coco)",
        ),
        _MODEL,
        _BACKEND,
    )

    def __init__(
        self,
        prompts: str | Path | dict = "photo-quality",
        model: str | None = None,
        threads: int | None = None,
        backend: str = "torch",
    ):
        self.constructs = load_prompts(prompts)
        self.prompts_spec = prompts if isinstance(prompts, dict) else str(prompts)
        super().__init__(model, threads, backend)
        self.text = {}  # construct -> (names, is_prompt, (k, dim) text embeddings)
        for c, spec in self.constructs.items():
            names = list(spec["prompts"]) + list(spec["contrast"])
            texts = {**spec["prompts"], **spec["contrast"]}
            emb = []
            for n in names:  # prompt ensembling: the normalised mean over templates
                e = self.model.embed_texts([t.format(texts[n]) for t in spec["templates"]]).mean(0)
                emb.append(e / max(np.linalg.norm(e), 1e-12))
            self.text[c] = (names, [n in spec["prompts"] for n in names], np.stack(emb).astype(np.float32))

    def params(self) -> dict[str, Any]:
        return {
            "model": self.model_spec,
            "prompts": self.prompts_spec,
            "constructs": self.constructs,
            "backend": self.model.backend,
        }

    def fields(self) -> list:
        import pyarrow as pa

        f = []
        for c, (names, is_prompt, _) in self.text.items():
            for n, p in zip(names, is_prompt):
                if p:
                    f += [f"sim_{c}_{n}", f"prob_{c}_{n}", f"score_{c}_{n}"]
            if not all(is_prompt):
                f.append(f"prob_{c}")
        return [pa.field(f"clip_{n}", pa.float64()) for n in f]

    def __call__(self, batch: list[np.ndarray]) -> dict[str, list]:
        img = self.model.embed_images(batch)  # (N, dim)
        out: dict[str, list] = {}
        for c, (names, is_prompt, text) in self.text.items():
            sim = img @ text.T  # (N, k)
            logits = self.model.logit_scale * sim
            prob = np.exp(logits - logits.max(1, keepdims=True))
            prob /= prob.sum(1, keepdims=True)
            for j, (n, p) in enumerate(zip(names, is_prompt)):
                if p:
                    out[f"clip_sim_{c}_{n}"] = sim[:, j].astype(float).tolist()
                    out[f"clip_prob_{c}_{n}"] = prob[:, j].astype(float).tolist()
                    out[f"clip_score_{c}_{n}"] = (2.5 * np.maximum(sim[:, j], 0)).astype(float).tolist()
            if not all(is_prompt):
                out[f"clip_prob_{c}"] = prob[:, np.array(is_prompt)].sum(1).astype(float).tolist()
        return out
