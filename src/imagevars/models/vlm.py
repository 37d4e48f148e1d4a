"""Vision-language models (image-text-to-text) from the Hugging Face hub, asked questions about an image.

Any model transformers loads with ``AutoModelForImageTextToText`` and ``AutoProcessor`` (SmolVLM,
Qwen2.5-VL, LLaVA, PaliGemma ...), given as ``hf:<owner>/<name>[@revision]`` or a folder saved
with ``save_pretrained``; offline-aware like the other hub models (:mod:`imagevars.models.hub`).

Closed questions are *scored*, not generated: for each allowed answer, the model's log-likelihood
of the answer's tokens after the prompt (the image and the question, in the model's own chat
template), one forward pass per answer, no sampling; :mod:`imagevars.tasks.ask` turns them into a
probability per answer. Free answers are generated greedily up to a token cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .card import ModelCard, hub_card
from .identity import hub_sha256
from .registry import register_model


class VLMError(RuntimeError):
    """A vision-language model could not be loaded or used."""


def _vlm_card(name: str, repo: str, revision: str, license: str, citation: str, description: str) -> ModelCard:
    return hub_card(
        name,
        repo,
        task="ask",
        side=768,
        revision=revision,
        architecture="transformers-image-text-to-text",
        license=license,
        citation=citation,
        description=description,
    )


_SMOLVLM = "Marafioti et al. (2025), SmolVLM: redefining small and efficient multimodal models, arXiv:2504.05299."
VLM_MODELS = [  # revisions: the hub commits pinned; the commit actually loaded is also recorded in the provenance
    _vlm_card(
        "smolvlm-256m",
        "HuggingFaceTB/SmolVLM-256M-Instruct",
        "7e3e67edbbed1bf9888184d9df282b700a323964",
        "Apache-2.0",
        _SMOLVLM,
        "SmolVLM 256M Instruct: the smallest open VLM coder, ~1 GB, CPU-friendly; "
        "the ask task's default (hub; internet once)",
    ),
    _vlm_card(
        "smolvlm-500m",
        "HuggingFaceTB/SmolVLM-500M-Instruct",
        "a7da5b986cb59b408707209984f360a5f4ad7e47",
        "Apache-2.0",
        _SMOLVLM,
        "SmolVLM 500M Instruct: better answers, twice the cost (hub; internet once)",
    ),
    _vlm_card(
        "qwen2.5-vl-3b",
        "Qwen/Qwen2.5-VL-3B-Instruct",
        "66285546d2b821cf421d4f5eb2576359d3770cd3",
        "Qwen Research License (non-commercial research use; read it before you publish)",
        "Bai et al. (2025), Qwen2.5-VL technical report, arXiv:2502.13923.",
        "Qwen2.5-VL 3B Instruct: a strong small coder, ~7.5 GB; a GPU helps (hub; internet once)",
    ),
]


def _builder(card: ModelCard):
    def build(card: ModelCard = card, weights: str | None = None, pretrained: bool = True, threads: int | None = None):
        return VisionLanguageModel(weights or card.name, threads=threads, pretrained=pretrained)

    return build


for _card in VLM_MODELS:
    register_model(_card)(_builder(_card))


def parse_spec(spec: str) -> tuple[str, str | None]:
    """(repo or folder, revision) from a carded name, ``hf:owner/name@revision``, ``owner/name`` or a folder.

    Example:
        >>> parse_spec("hf:HuggingFaceTB/SmolVLM-256M-Instruct@main")
        ('HuggingFaceTB/SmolVLM-256M-Instruct', 'main')
        >>> parse_spec("smolvlm-256m")[1][:12]
        '7e3e67edbbed'
    """
    from .registry import get_card, list_models

    if spec in list_models() and get_card(spec).task == "ask":
        card = get_card(spec)
        return card.config["hf_repo"], card.weights.revision
    spec = spec[3:] if spec.startswith("hf:") else spec
    if Path(spec).is_dir():
        return spec, None
    repo, _, revision = spec.partition("@")
    return repo, revision or None


class VisionLanguageModel:
    """A loaded image-text-to-text model: :meth:`prompt`, :meth:`score` and :meth:`generate`.

    Example:
        >>> vlm = VisionLanguageModel("hf:HuggingFaceTB/SmolVLM-256M-Instruct")  # doctest: +SKIP
        >>> vlm.score(rgb, vlm.prompt("Is anyone smiling? Answer yes or no."), ["yes", "no"])  # doctest: +SKIP
    """

    def __init__(self, spec: str, threads: int | None = None, pretrained: bool = True):
        from .hub import open_hub_model

        self.spec = spec
        self.repo, self.revision = parse_spec(spec)
        try:
            self.processor, self.model, self.commit = open_hub_model(
                self.repo,
                self.revision,
                "vision-language model",
                VLMError,
                lambda t: t.AutoModelForImageTextToText,
                processor_class=lambda t: t.AutoProcessor,
                threads=threads,
                purpose="the ask task",
                pretrained=pretrained,
            )
        except ValueError as exc:  # transformers: the configuration is not an image-text-to-text model
            raise VLMError(
                f"{spec} is not an image-text-to-text model (a vision-language model such as SmolVLM or "
                f"Qwen2.5-VL): {str(exc).splitlines()[0]}"
            ) from None
        self.tokenizer = self.processor.tokenizer
        self.shared_prefix: bool | None = None  # scoring on a shared key-value cache: unchecked yet

    def provenance(self) -> dict[str, Any]:
        from .clip import _weights_digest

        scoring = {
            None: "not used yet",
            True: "the image and shared prompt once per image, then each prompt and "
            "answer on its key-value cache (checked equal to whole passes)",
            False: "one whole pass per answer",
        }[self.shared_prefix]
        return {
            "model": self.repo,
            "revision": self.revision,
            "commit": self.commit,
            "scoring": scoring,
            "architecture": type(self.model).__name__,
            "weights_digest": _weights_digest(self.model),
            "weights_sha256": hub_sha256(self.repo, self.revision),
        }

    def prompt(self, question: str) -> str:
        """The model's chat template around one image and ``question``, ready for the answer."""
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
        return self.processor.apply_chat_template(messages, add_generation_prompt=True)

    def answer_ids(self, answer: str, prompt: str) -> list[int]:
        """The tokens of ``answer`` as written after ``prompt`` (a space first unless the prompt ends in one)."""
        text = answer if not prompt or prompt[-1].isspace() else " " + answer
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode(self, rgb: np.ndarray, prompt: str) -> dict:
        try:
            enc = self.processor(text=[prompt], images=[rgb], return_tensors="pt")
        except Exception as exc:  # noqa: BLE001 - the processor's own reasons vary by family
            raise VLMError(
                f"the model's processor rejected the image ({rgb.shape[1]}x{rgb.shape[0]}): "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            ) from None
        return dict(enc.to(self.model.device))  # on the model's device (models.device)

    def score(self, rgb: np.ndarray, prompt: str, answers: Sequence[str]) -> np.ndarray:
        """Log-likelihood of each answer's tokens after the prompt and image: the whole sequence through the model
        once per answer (the reference :meth:`score_prompts` is checked against)."""
        import torch

        enc = self.encode(rgb, prompt)
        ids = enc["input_ids"]
        out = []
        with torch.no_grad():
            for answer in answers:
                tail = torch.tensor([self.answer_ids(answer, prompt)], dtype=ids.dtype, device=ids.device)
                inputs = dict(
                    enc,
                    input_ids=torch.cat([ids, tail], 1),
                    attention_mask=torch.ones((1, ids.shape[1] + tail.shape[1]), dtype=torch.long, device=ids.device),
                )
                logits = self.model(**inputs).logits[0, ids.shape[1] - 1 : -1].float()
                out.append(float(torch.log_softmax(logits, -1).gather(1, tail[0][:, None]).sum()))
        return np.array(out)

    def score_prompts(
        self, rgb: np.ndarray, prompts: Sequence[str], answers: Sequence[Sequence[str]]
    ) -> list[np.ndarray]:
        """:meth:`score` for several prompts about one image, sharing the work: the image and the part of the
        prompts they share (the chat template up to the question) run through the model once; each prompt's own
        tokens, then each answer's, run on that key-value cache. Checked against :meth:`score` on the first image
        a model scores (within 1e-3 in log-likelihood); a model family where they differ is scored the plain way,
        and :meth:`provenance` says which."""
        if self.shared_prefix is None:
            self.check_shared_prefix(rgb, prompts[0], answers[0])
        if self.shared_prefix:
            out = self._score_cached(rgb, prompts, answers)
            if out is not None:
                return out
        return [self.score(rgb, p, a) for p, a in zip(prompts, answers)]

    def check_shared_prefix(self, rgb: np.ndarray, prompt: str, answers: Sequence[str]) -> bool:
        """Whether scoring on the shared cache gives :meth:`score`'s log-likelihoods (within 1e-3) for this model."""
        fast = self._score_cached(rgb, [prompt], [answers])
        self.shared_prefix = fast is not None and bool(
            np.allclose(fast[0], self.score(rgb, prompt, answers), atol=1e-3, rtol=0)
        )
        return self.shared_prefix

    def _score_cached(self, rgb, prompts, answers) -> list[np.ndarray] | None:
        import torch

        encs = [self.encode(rgb, p) for p in prompts]
        ids = [e["input_ids"][0] for e in encs]
        shared = min(len(i) for i in ids) - 1  # every prompt keeps at least its last token to run on the cache
        for other in ids[1:]:
            differ = torch.nonzero(other[:shared] != ids[0][:shared])
            shared = int(differ[0, 0]) if len(differ) else shared
        image_token = getattr(self.model.config, "image_token_id", None) or getattr(
            self.model.config, "image_token_index", None
        )
        if shared < 1 or (image_token is not None and bool((ids[0][shared:] == image_token).any())):
            return None  # the image is not in the shared part: nothing to gain
        head = {k: v for k, v in encs[0].items() if k not in ("input_ids", "attention_mask")}
        try:
            with torch.no_grad():
                cache = self.model(
                    input_ids=ids[0][None, :shared],
                    use_cache=True,
                    **head,
                    attention_mask=torch.ones((1, shared), dtype=torch.long, device=ids[0].device),
                ).past_key_values
                return [
                    self._answers_on(cache, shared, prompt_ids, prompt, a)
                    for prompt_ids, prompt, a in zip(ids, prompts, answers)
                ]
        except (TypeError, ValueError, NotImplementedError, AttributeError, RuntimeError):
            return None  # a family whose cache cannot be cut back: the plain way

    def _continue(self, cache, ids, start: int):
        """Logits of ``ids`` run after the first ``start`` cached positions (the cache is cut back to them first)."""
        import torch

        if cache.get_seq_length() > start:  # a negative count removes that many positions, in transformers 4 and 5
            cache.crop(-(cache.get_seq_length() - start))
        n = len(ids)
        return (
            self.model(
                input_ids=ids[None],
                attention_mask=torch.ones((1, start + n), dtype=torch.long, device=ids.device),
                past_key_values=cache,
                use_cache=True,
                cache_position=torch.arange(start, start + n, device=ids.device),
            )
            .logits[0]
            .float()
        )

    def _answers_on(self, cache, shared: int, prompt_ids, prompt: str, answers: Sequence[str]) -> np.ndarray:
        import torch
        # called under torch.no_grad() by _score_cached

        last = self._continue(cache, prompt_ids[shared:], shared)[-1:]
        out = []
        for answer in answers:
            tail = torch.tensor(self.answer_ids(answer, prompt), dtype=prompt_ids.dtype, device=prompt_ids.device)
            logits = last if len(tail) == 1 else torch.cat([last, self._continue(cache, tail[:-1], len(prompt_ids))])
            out.append(float(torch.log_softmax(logits, -1).gather(1, tail[:, None]).sum()))
        return np.array(out)

    def generate(self, rgb: np.ndarray, prompt: str, max_tokens: int) -> str:
        """The model's own answer, greedy, at most ``max_tokens`` tokens."""
        import torch

        enc = self.encode(rgb, prompt)
        with torch.no_grad():
            out = self.model.generate(**enc, max_new_tokens=max_tokens, do_sample=False)
        return self.tokenizer.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True).strip()


def byte_level_tokenizer(bos: str, eos: str, pad: str, special: Sequence[str] = ()):
    """A fast tokenizer with one token per byte (no merges) and the given special tokens: for random test and
    bench models, which need a real tokenizer but no real vocabulary.

    Example:
        >>> tok = byte_level_tokenizer("<s>", "</s>", "<pad>", ["<image>"])
        >>> len(tok("yes")["input_ids"]), tok.convert_tokens_to_ids("<image>") >= 256
        (3, True)
    """
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    core = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    core.pre_tokenizer, core.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=core, bos_token=bos, eos_token=eos, pad_token=pad)
    tok.add_special_tokens({"additional_special_tokens": list(special)})
    return tok


def save_random_vlm(folder: str | Path, seed: int = 0) -> Path:
    """A tiny randomly initialised LLaVA (CLIP vision tower, Llama text model, one token per byte) saved as a hub
    model would be, with its processor and chat template: for tests of the ask task's real code path."""
    import torch
    import transformers

    folder = Path(folder)
    tok = byte_level_tokenizer("<s>", "</s>", "<pad>", ["<image>"])
    template = (
        "{% for m in messages %}{{ m['role'] }}: {% for c in m['content'] %}{% if c['type'] == 'text' %}"
        "{{ c['text'] }}{% elif c['type'] == 'image' %}<image>\n{% endif %}{% endfor %}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant:{% endif %}"
    )
    images = transformers.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor = transformers.LlavaProcessor(
        image_processor=images,
        tokenizer=tok,
        patch_size=8,
        vision_feature_select_strategy="default",
        chat_template=template,
        num_additional_image_tokens=1,
    )
    vision = transformers.CLIPVisionConfig(
        hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=8
    )
    text = transformers.LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
    )
    config = transformers.LlavaConfig(
        vision_config=vision.to_dict(),
        text_config=text.to_dict(),
        image_token_id=tok.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(seed)
    transformers.LlavaForConditionalGeneration(config).eval().save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
