"""Time per image per question for the ask task: scoring closed answers against generating them.

    python bench/ask_scoring.py --rounds 3
    python bench/ask_scoring.py --rounds 3 --questions 1

The model is SmolVLM-256M-Instruct's architecture at its real size (the Idefics3 classes and the
configuration of ``HuggingFaceTB/SmolVLM-256M-Instruct``: SigLIP-B/16 at 512 px, image splitting, a 30-layer
SmolLM2-135M, 49,280 tokens) with random weights, since no weights download here; the time of a
forward pass does not depend on the weights' values. It is saved to a folder and loaded the way a
user's model is. Its tokenizer is a byte-level stand-in with SmolVLM's special tokens (prompts come
out longer in tokens than with the real one, which slows both modes alike).

The codebook is the issue's three closed questions (2, 3 and 4 answers). Per round, on each photo:

* scored: the ask task's own path (the image and the shared chat prefix once per image, then each
  question and answer on the key-value cache);
* scored, one pass per answer: every answer through the whole model (what the task does for a family
  whose cache it cannot reuse);
* generated: a plain transformers ``generate`` per question, greedy, up to the longest answer's
  tokens plus an end token.

Modes alternate within each round; the medians over rounds are printed, with how busy the machine was.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from quiet import Quiet, ratio  # noqa: E402

CODEBOOK = """
questions:
  smiling:  {ask: "Is any person in this image smiling?", answers: ["yes", "no"]}
  setting:  {ask: "Where was this photo taken?", answers: [indoors, outdoors, studio]}
  people:   {ask: "How many people are visible?", answers: ["0", "1", "2", "3 or more"]}
"""

TEMPLATE = (
    "<|im_start|>{% for m in messages %}{{ m['role'] | capitalize }}:{% for c in m['content'] %}"
    "{% if c['type'] == 'text' %}{{ c['text'] }}{% elif c['type'] == 'image' %}<image>{% endif %}{% endfor %}"
    "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}"
)


def save_smolvlm_256m(folder: Path) -> Path:
    """SmolVLM-256M-Instruct's architecture and processor settings, random weights, a byte-level tokenizer."""
    import torch
    import transformers

    from imagevars.models.vlm import byte_level_tokenizer

    grid = [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)]
    tok = byte_level_tokenizer(
        "<|im_start|>",
        "<end_of_utterance>",
        "<|im_end|>",
        ["<fake_token_around_image>", "<image>", "<global-img>", "<end_of_utterance>", *grid],
    )
    images = transformers.Idefics3ImageProcessorPil(
        size={"longest_edge": 2048}, max_image_size={"longest_edge": 512}, do_image_splitting=True
    )
    processor = transformers.Idefics3Processor(
        image_processor=images, tokenizer=tok, image_seq_len=64, chat_template=TEMPLATE
    )
    config = transformers.Idefics3Config(
        image_token_id=tok.convert_tokens_to_ids("<image>"),
        scale_factor=4,
        vision_config=dict(
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            image_size=512,
            patch_size=16,
        ),
        text_config=dict(
            model_type="llama",
            vocab_size=49280,
            hidden_size=576,
            intermediate_size=1536,
            num_hidden_layers=30,
            num_attention_heads=9,
            num_key_value_heads=3,
            rms_norm_eps=1e-5,
            rope_theta=100000,
            max_position_embeddings=8192,
            tie_word_embeddings=True,
        ),
    )
    torch.manual_seed(0)
    transformers.AutoModelForImageTextToText.from_config(config).eval().save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--questions", type=int, default=3, help="ask only the first N of the codebook's questions")
    p.add_argument("--plain", action="store_true", help="also time one whole pass per answer (slow)")
    args = p.parse_args()
    import skimage.data as data
    import torch

    from imagevars.tasks.ask import CLOSED, AskTask
    from imagevars.tasks.base import working_rgb

    work = Path(tempfile.mkdtemp())
    (work / "codebook.yaml").write_text(CODEBOOK.rsplit("\n", 4 - args.questions)[0] + "\n")
    folder = save_smolvlm_256m(work / "smolvlm-256m-random")
    task = AskTask(str(work / "codebook.yaml"), str(folder))
    torch.set_num_threads(args.threads)
    vlm, questions = task.vlm, task.questions
    photos = [working_rgb(_Decoded(f()), 768) for f in (data.astronaut, data.coffee)]
    print(
        f"model: {type(vlm.model).__name__}, {sum(p.numel() for p in vlm.model.parameters()) / 1e6:.0f} M "
        f"parameters; scoring on the shared cache: {vlm.shared_prefix}; {args.threads} threads"
    )
    print(
        f"prompt tokens per question (image included): {vlm.encode(photos[0], task._closed_prompt(questions[0], 0))['input_ids'].shape[1]}"
    )

    def scored(rgb):
        task.answer(rgb)

    def plain(rgb):
        for q in questions:
            vlm.score(rgb, task._closed_prompt(q, 0), q.answers)

    def generated(rgb):
        for q in questions:
            longest = max(len(vlm.answer_ids(a, "x")) for a in q.answers)
            vlm.generate(rgb, vlm.prompt(CLOSED.format(ask=q.wordings[0], answers=", ".join(q.answers))), longest + 1)

    modes = {"scored": scored, "generated": generated, **({"scored, one pass per answer": plain} if args.plain else {})}
    times: dict[str, list[float]] = {m: [] for m in modes}
    with Quiet() as q:
        for r in range(args.rounds):
            for name in list(modes) if r % 2 == 0 else list(reversed(modes)):
                t0 = time.perf_counter()
                for rgb in photos:
                    modes[name](rgb)
                times[name].append((time.perf_counter() - t0) / len(photos) / len(questions))
            print(f"round {r + 1}: " + ", ".join(f"{m} {v[-1]:.2f} s" for m, v in times.items()), flush=True)
        med = {m: statistics.median(v) for m, v in times.items()}
        for m, v in med.items():
            print(f"{m:>28}: {v:.2f} s per image per question (median of {args.rounds} rounds)")
        print(
            f"generating / scoring: {ratio(med['generated'], med['scored'])} "
            f"(each round's own: {', '.join(f'{g / s:.2f}x' for g, s in zip(times['generated'], times['scored']))})"
        )
    print(q.line())


class _Decoded:
    def __init__(self, rgb):
        self.rgb, self.height, self.width = rgb, rgb.shape[0], rgb.shape[1]


if __name__ == "__main__":
    main()
