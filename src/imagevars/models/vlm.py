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

from pathlib import Path
from typing import Any, Sequence

import numpy as np


class VLMError(RuntimeError):
    """A vision-language model could not be loaded or used."""


def parse_spec(spec: str) -> tuple[str, str | None]:
    """(repo or folder, revision) from ``hf:owner/name@revision``, ``owner/name`` or a folder.

    Example:
        >>> parse_spec("hf:HuggingFaceTB/SmolVLM-256M-Instruct@main")
        ('HuggingFaceTB/SmolVLM-256M-Instruct', 'main')
    """
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

    def __init__(self, spec: str, threads: int | None = None):
        from .hub import open_hub_model

        self.spec = spec
        self.repo, self.revision = parse_spec(spec)
        try:
            self.processor, self.model, self.commit = open_hub_model(
                self.repo, self.revision, "vision-language model", VLMError, lambda t: t.AutoModelForImageTextToText,
                processor_class=lambda t: t.AutoProcessor, threads=threads, purpose="the ask task")
        except ValueError as exc:  # transformers: the configuration is not an image-text-to-text model
            raise VLMError(f"{spec} is not an image-text-to-text model (a vision-language model such as SmolVLM or "
                           f"Qwen2.5-VL): {str(exc).splitlines()[0]}") from None
        self.tokenizer = self.processor.tokenizer

    def provenance(self) -> dict[str, Any]:
        from .clip import _weights_digest

        return {"model": self.repo, "revision": self.revision, "commit": self.commit,
                "architecture": type(self.model).__name__, "weights_digest": _weights_digest(self.model)}

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
            return dict(self.processor(text=[prompt], images=[rgb], return_tensors="pt"))
        except Exception as exc:  # noqa: BLE001 - the processor's own reasons vary by family
            raise VLMError(f"the model's processor rejected the image ({rgb.shape[1]}x{rgb.shape[0]}): "
                           f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None

    def score(self, rgb: np.ndarray, prompt: str, answers: Sequence[str]) -> np.ndarray:
        """Log-likelihood of each answer's tokens after the prompt and image (one forward pass per answer)."""
        import torch

        enc = self.encode(rgb, prompt)
        ids = enc["input_ids"]
        out = []
        with torch.no_grad():
            for answer in answers:
                tail = torch.tensor([self.answer_ids(answer, prompt)], dtype=ids.dtype)
                inputs = dict(enc, input_ids=torch.cat([ids, tail], 1),
                              attention_mask=torch.ones((1, ids.shape[1] + tail.shape[1]), dtype=torch.long))
                logits = self.model(**inputs).logits[0, ids.shape[1] - 1:-1].float()
                out.append(float(torch.log_softmax(logits, -1).gather(1, tail[0][:, None]).sum()))
        return np.array(out)

    def generate(self, rgb: np.ndarray, prompt: str, max_tokens: int) -> str:
        """The model's own answer, greedy, at most ``max_tokens`` tokens."""
        import torch

        enc = self.encode(rgb, prompt)
        with torch.no_grad():
            out = self.model.generate(**enc, max_new_tokens=max_tokens, do_sample=False)
        return self.tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip()


def save_random_vlm(folder: str | Path, seed: int = 0) -> Path:
    """A tiny randomly initialised LLaVA (CLIP vision tower, Llama text model, one token per byte) saved as a hub
    model would be, with its processor and chat template: for tests of the ask task's real code path."""
    import torch
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    folder = Path(folder)
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    core = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    core.pre_tokenizer, core.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    template = ("{% for m in messages %}{{ m['role'] }}: {% for c in m['content'] %}{% if c['type'] == 'text' %}"
                "{{ c['text'] }}{% elif c['type'] == 'image' %}<image>\n{% endif %}{% endfor %}\n{% endfor %}"
                "{% if add_generation_prompt %}assistant:{% endif %}")
    images = transformers.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor = transformers.LlavaProcessor(image_processor=images, tokenizer=tok, patch_size=8,
                                            vision_feature_select_strategy="default", chat_template=template,
                                            num_additional_image_tokens=1)
    vision = transformers.CLIPVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                           num_attention_heads=2, image_size=32, patch_size=8)
    text = transformers.LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                    num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512)
    config = transformers.LlavaConfig(vision_config=vision.to_dict(), text_config=text.to_dict(),
                                      image_token_id=tok.convert_tokens_to_ids("<image>"),
                                      vision_feature_select_strategy="default", vision_feature_layer=-1)
    torch.manual_seed(seed)
    transformers.LlavaForConditionalGeneration(config).eval().save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
