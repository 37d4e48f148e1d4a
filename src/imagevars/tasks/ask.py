"""``ask``: a codebook's questions answered by an open vision-language model. The codebook.

The codebook is a YAML file::

    questions:
      smiling:  {ask: "Is any person in this image smiling?", answers: [yes, no],
                 wordings: ["Does anyone in the photo smile?"]}
      setting:  {ask: "Where was this photo taken?", answers: [indoors, outdoors, studio]}
      caption:  {ask: "Describe the image in one sentence.", free: true, max_tokens: 40}
    wordings: 2        # optional: ask each question in at most this many wordings (the first, then its own)

Closed questions are scored, not generated (:mod:`imagevars.models.vlm`): the prompt is the
model's chat template around the image and ``"{ask} Answer with one of: {answers}."``; each
answer's log-likelihood after it is turned into a probability by a softmax over the allowed
answers. With several wordings, each wording is scored and the probabilities are averaged.
Deterministic: no sampling. Free questions are generated greedily, at most ``max_tokens``
(default 40) tokens.

Columns, for a closed question ``q`` (``ask_`` + name; answers written as column-safe names):

=========================== =======================================================================
q_<answer>                  probability of the answer, averaged over wordings, [0, 1]
q                           the most probable answer
q_margin                    its probability minus the second answer's, [0, 1]
q_wording_disagreement      with several wordings: the share of wordings whose own most probable
                            answer differs from ``q``, [0, 1] (answers move with wording)
=========================== =======================================================================

and ``q`` (the generated text) for a free question. The provenance records the model (repo,
revision, commit, a digest of its weights), the prompt templates and the codebook's sha256.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .base import Option, Task, working_rgb

CLOSED = "{ask} Answer with one of: {answers}."


@dataclass
class AskQuestion:
    name: str
    wordings: list[str]
    answers: list[str] = field(default_factory=list)
    free: bool = False
    max_tokens: int = 40


def answer_column(answer: str) -> str:
    """A column-safe name for an answer.

    Example:
        >>> answer_column("3 or more"), answer_column("Indoors")
        ('3_or_more', 'indoors')
    """
    return re.sub(r"[^0-9a-z]+", "_", answer.lower()).strip("_") or "blank"


def load_codebook(path: str) -> tuple[list[AskQuestion], str]:
    """(questions, sha256 of the file) from a YAML codebook; a clear error for each thing that cannot work."""
    from ..io.files import read_yaml

    text = Path(path).read_text(encoding="utf-8")
    book = read_yaml(path) or {}
    items = book.get("questions") if isinstance(book, dict) else None
    if not isinstance(items, dict) or not items:
        raise ValueError(f"{path}: a codebook needs 'questions:', a mapping of names to {{ask: ..., answers: [...]}}")
    limit = book.get("wordings")
    questions = []
    for name, q in items.items():
        if not isinstance(q, dict) or not str(q.get("ask", "")).strip():
            raise ValueError(f"{path}: question {name!r} has no 'ask:' text")
        wordings = [str(q["ask"])] + [str(w) for w in q.get("wordings", []) or []]
        answers = [str(a) for a in q.get("answers", []) or []]
        free = bool(q.get("free", False))
        if not free and len(answers) < 2:
            raise ValueError(f"{path}: question {name!r} needs at least two answers (or 'free: true')")
        columns = [answer_column(a) for a in answers]
        if len(set(columns)) != len(columns):
            raise ValueError(f"{path}: question {name!r} has duplicate answers {answers} (as column names: {columns})")
        questions.append(
            AskQuestion(
                str(name), wordings[: int(limit)] if limit else wordings, answers, free, int(q.get("max_tokens", 40))
            )
        )
    return questions, hashlib.sha256(text.encode("utf-8")).hexdigest()


class AskTask(Task):
    """A codebook's questions answered by a vision-language model (module docstring).

    Args:
        codebook: a YAML codebook (module docstring).
        model: a carded model (``smolvlm-256m``, the default; ``smolvlm-500m``, ``qwen2.5-vl-3b``: each pinned
            to a hub commit), ``hf:<owner>/<name>[@revision]`` or a folder saved with ``save_pretrained``.
        size: longest side, in pixels, of the image given to the model's processor (default 768).

    Example:
        >>> import imagevars
        >>> from imagevars.tasks.ask import AskTask
        >>> imagevars.run([AskTask("codebook.yaml", "hf:HuggingFaceTB/SmolVLM-256M-Instruct")], "PHOTOS/")  # doctest: +SKIP
    """

    name = "ask"
    options = (
        Option("--codebook", "codebook", str, "ask: the YAML codebook of questions"),
        Option(
            "--model",
            "model",
            str,
            "ask: the vision-language model: smolvlm-256m (default), smolvlm-500m, "
            "qwen2.5-vl-3b, hf:<owner>/<name>[@revision] or a folder",
        ),
        Option(
            "--vlm",
            "model",
            str,
            "ask: the vision-language model, as --model (for runs where another task takes --model)",
        ),
    )

    def __init__(self, codebook: str | None = None, model: str = "smolvlm-256m", size: int = 768):
        from ..models.vlm import VisionLanguageModel

        if not codebook:
            raise ValueError("the ask task needs a codebook of questions: --codebook codebook.yaml")
        self.codebook, self.model_spec, self.size, self.max_side = str(codebook), str(model), int(size), int(size)
        self.questions, self.codebook_sha256 = load_codebook(self.codebook)
        self.vlm = VisionLanguageModel(self.model_spec)
        for q in self.questions:
            for a in q.answers:
                if not self.vlm.answer_ids(a, "x"):
                    raise ValueError(f"{self.codebook}: answer {a!r} of question {q.name!r} gives the model no tokens")
        closed = [q for q in self.questions if not q.free]
        if closed:  # settle once, before any table is written, whether this model scores on a shared cache
            probe = np.tile(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], (48, 1, 3))
            self.vlm.check_shared_prefix(probe, self._closed_prompt(closed[0], 0), closed[0].answers)

    def _closed_prompt(self, q: AskQuestion, wording: int) -> str:
        return self.vlm.prompt(CLOSED.format(ask=q.wordings[wording], answers=", ".join(q.answers)))

    def params(self) -> dict[str, Any]:
        return {"codebook": self.codebook, "model": self.model_spec, "size": self.size}

    def provenance(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": self.params(),
            "model": self.model_spec,
            "weights_sha256": (vlm := self.vlm.provenance()).get("weights_sha256"),
            "vlm": vlm,
            "codebook_sha256": self.codebook_sha256,
            "prompt": {
                "closed": CLOSED,
                "free": "{ask}",
                "chat_template": "the model's own",
                "closed_rendered": self.vlm.prompt(CLOSED),
                "free_rendered": self.vlm.prompt("{ask}"),
            },
        }

    def preprocessor(self):
        return functools.partial(working_rgb, size=self.size)

    def _names(self) -> list[tuple[str, str]]:
        out = []
        for q in self.questions:
            if q.free:
                out.append((q.name, "string"))
                continue
            out += [(f"{q.name}_{answer_column(a)}", "float") for a in q.answers]
            out += [(q.name, "string"), (f"{q.name}_margin", "float")]
            if len(q.wordings) > 1:
                out.append((f"{q.name}_wording_disagreement", "float"))
        return out

    def fields(self) -> list:
        import pyarrow as pa

        return [pa.field(f"ask_{n}", pa.string() if t == "string" else pa.float64()) for n, t in self._names()]

    def answer(self, rgb: np.ndarray) -> dict[str, Any]:
        """The columns of one image (without the ``ask_`` prefix)."""
        row: dict[str, Any] = {}
        asked = [(q, w) for q in self.questions if not q.free for w in range(len(q.wordings))]
        scores = (
            self.vlm.score_prompts(rgb, [self._closed_prompt(q, w) for q, w in asked], [q.answers for q, _ in asked])
            if asked
            else []
        )
        for q in self.questions:
            if q.free:
                row[q.name] = self.vlm.generate(rgb, self.vlm.prompt(q.wordings[0]), q.max_tokens)
                continue
            probs = []
            for ll in (s for (asked_q, _), s in zip(asked, scores) if asked_q is q):
                p = np.exp(ll - ll.max())
                probs.append(p / p.sum())
            mean = np.mean(probs, 0)
            order = np.argsort(-mean, kind="stable")
            row.update({f"{q.name}_{answer_column(a)}": float(v) for a, v in zip(q.answers, mean)})
            row[q.name], row[f"{q.name}_margin"] = q.answers[order[0]], float(mean[order[0]] - mean[order[1]])
            if len(q.wordings) > 1:
                row[f"{q.name}_wording_disagreement"] = float(np.mean([int(np.argmax(p)) != order[0] for p in probs]))
        return row

    def __call__(self, batch: list[np.ndarray]) -> dict[str, list]:
        rows = [self.answer(rgb) for rgb in batch]
        return {f"ask_{n}": [r[n] for r in rows] for n, _ in self._names()}
