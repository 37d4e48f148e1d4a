"""A coding codebook: the questions people answer about each image, their answers and keys.

A small YAML file::

    title: People in listing photos
    instructions: Code what you see in the photo, not what the listing says.
    questions:
      - name: person_present            # the column the answers go to
        question: Is there a person in the photo (any part of one)?
        answers:                        # label and the key that gives it
          - {label: "yes", key: "y"}
          - {label: "no", key: "n"}
        level: nominal                  # or ordinal: answers in their order

The codebook of ``imagevars run ask`` (``questions:`` a mapping of names to ``{ask, answers}``) is
read too: its closed questions, keyed 1, 2, 3 ..., so one file drives the model and the people.

Without a file, :func:`default_codebook` asks one yes/no question about a variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

RESERVED_KEYS = {"b", "s", "f"}  # back, skip, flag


@dataclass
class Question:
    name: str
    question: str
    answers: list[tuple[str, str]]  # (label, key)
    level: str = "nominal"
    help: str = ""


@dataclass
class Codebook:
    title: str
    questions: list[Question]
    instructions: str = ""
    source: str = "default"
    extra: dict = field(default_factory=dict)

    def question(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        raise ValueError(f"the codebook has no question {name!r}; it has {', '.join(q.name for q in self.questions)}")

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "instructions": self.instructions,
            "source": self.source,
            "questions": [
                {
                    "name": q.name,
                    "question": q.question,
                    "level": q.level,
                    "help": q.help,
                    "answers": [{"label": a, "key": k} for a, k in q.answers],
                }
                for q in self.questions
            ],
        }


def default_codebook(variable: str) -> Codebook:
    """One yes/no question named after ``variable`` (``detect_person_any`` -> "person any: yes or no?")."""
    words = variable.split("_", 1)[-1].replace("_", " ")
    return Codebook(
        title=f"Coding: {words}",
        source="default",
        questions=[
            Question(
                name=f"{variable}_human", question=f"Does the image show: {words}?", answers=[("yes", "y"), ("no", "n")]
            )
        ],
    )


def _from_ask(path: Path, items: dict) -> list[dict]:
    """The closed questions of an ``imagevars run ask`` codebook, read (and checked) by that task's own reader, as
    coding-page questions: the first wording, the answers keyed 1, 2, 3 ... in their order (free-text questions
    are for the model only)."""
    from ..tasks.ask import load_codebook as load_ask_codebook

    questions, _ = load_ask_codebook(str(path))
    return [
        {
            "name": q.name,
            "question": q.wordings[0],
            "level": items[q.name].get("level", "nominal"),
            "help": items[q.name].get("help", ""),
            "answers": [{"label": a, "key": str(k)} for k, a in enumerate(q.answers, 1)],
        }
        for q in questions
        if not q.free
    ]


def load_codebook(path: str | os.PathLike) -> Codebook:
    """Read and check a YAML codebook: names, at least two answers, one key per answer, no clashes."""
    from ..io.files import read_yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--codebook {path} does not exist")
    raw = read_yaml(path) or {}  # YAML 1.2 booleans: an answer written yes stays "yes"
    items = raw.get("questions") or []
    if isinstance(items, dict):  # the ask task's codebook: the same file drives the model and the coding page
        items = _from_ask(path, items)
    if not items:
        raise ValueError(f"--codebook {path}: no questions (write a 'questions:' list)")
    questions = []
    for i, q in enumerate(items, 1):
        where = f"--codebook {path}, question {i}"
        if not q.get("name") or not q.get("question"):
            raise ValueError(f"{where}: each question needs a name and a question")
        answers = [(str(a["label"]), str(a.get("key", "")).lower()) for a in q.get("answers") or []]
        if len(answers) < 2:
            raise ValueError(f"{where} ({q['name']}): give at least two answers")
        keys = [k for _, k in answers]
        if any(len(k) != 1 for k in keys) or len(set(keys)) != len(keys) or RESERVED_KEYS & set(keys):
            raise ValueError(
                f"{where} ({q['name']}): each answer needs its own one-character key, not b, s or f (back, skip, flag)"
            )
        level = q.get("level", "nominal")
        if level not in ("nominal", "ordinal"):
            raise ValueError(f"{where} ({q['name']}): level is nominal or ordinal, not {level!r}")
        questions.append(Question(str(q["name"]), str(q["question"]), answers, level, str(q.get("help", ""))))
    return Codebook(str(raw.get("title", path.stem)), questions, str(raw.get("instructions", "")), str(path))
