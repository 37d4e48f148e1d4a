"""The ask task on a tiny random vision-language model saved as a hub folder and loaded by the user's code path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skimage.data as data
from PIL import Image

pytest.importorskip("transformers")

CODEBOOK = """
questions:
  smiling:  {ask: "Is any person in this image smiling?", answers: ["yes", "no"],
             wordings: ["Does anyone in the photo smile?", "Is someone smiling here?"]}
  setting:  {ask: "Where was this photo taken?", answers: [indoors, outdoors, studio]}
  caption:  {ask: "Describe the image in one sentence.", free: true, max_tokens: 6}
"""


@pytest.fixture(scope="module")
def vlm(tmp_path_factory):
    from imagevars.models.vlm import save_random_vlm

    return str(save_random_vlm(tmp_path_factory.mktemp("tiny-vlm")))


@pytest.fixture()
def codebook(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text(CODEBOOK)
    return str(path)


def _direct_loglik(folder, rgb, question, answer):
    """Independently of the task: the processor on the whole text (prompt + answer), one forward, the answer's
    token log-probabilities summed."""
    import torch
    import transformers

    proc = transformers.AutoProcessor.from_pretrained(folder)
    model = transformers.AutoModelForImageTextToText.from_pretrained(folder).eval()
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
    prompt = proc.apply_chat_template(messages, add_generation_prompt=True)
    n_prompt = proc(text=[prompt], images=[rgb], return_tensors="pt")["input_ids"].shape[1]
    enc = proc(text=[prompt + " " + answer], images=[rgb], return_tensors="pt")
    with torch.no_grad():
        logp = torch.log_softmax(model(**enc).logits[0].float(), -1)
    ids = enc["input_ids"][0]
    return float(sum(logp[i - 1, ids[i]] for i in range(n_prompt, len(ids))))


def test_scored_probabilities_equal_the_answers_token_likelihoods(vlm, codebook):
    from imagevars.tasks.ask import CLOSED, AskTask

    task = AskTask(codebook, vlm)
    rgb = data.astronaut()[::8, ::8].copy()
    row = task.answer(rgb)
    answers = ["indoors", "outdoors", "studio"]
    question = CLOSED.format(ask="Where was this photo taken?", answers=", ".join(answers))
    ll = np.array([_direct_loglik(vlm, rgb, question, a) for a in answers])
    want = np.exp(ll - ll.max()) / np.exp(ll - ll.max()).sum()
    got = np.array([row[f"setting_{a}"] for a in answers])
    assert np.allclose(got, want, atol=1e-5)
    assert row["setting"] == answers[int(np.argmax(want))]
    assert row["setting_margin"] == pytest.approx(np.sort(want)[-1] - np.sort(want)[-2], abs=1e-6)
    assert row["smiling_yes"] + row["smiling_no"] == pytest.approx(1.0)
    assert 0.0 <= row["smiling_wording_disagreement"] <= 1.0
    assert isinstance(row["caption"], str)
    assert task.answer(rgb) == row  # deterministic


def test_a_run_writes_the_columns_and_provenance(vlm, codebook, tmp_path):
    import imagevars
    from imagevars.cli import main

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(data.coffee()).save(photos / "coffee.png")
    (photos / "broken.jpg").write_bytes(b"nope")
    out = tmp_path / "answers.parquet"
    assert main(["run", "ask", str(photos), "--codebook", codebook, "--vlm", vlm, "-o", str(out)]) == 0
    t = pd.read_parquet(out)
    assert {
        "ask_smiling_yes",
        "ask_smiling",
        "ask_smiling_margin",
        "ask_smiling_wording_disagreement",
        "ask_setting_studio",
        "ask_caption",
    } <= set(t.columns)
    assert t["error"].notna().sum() == 1
    prov = imagevars.Results.read(out).provenance["tasks"][0]
    assert len(prov["codebook_sha256"]) == 64 and prov["vlm"]["architecture"] == "LlavaForConditionalGeneration"
    assert "Answer with one of" in prov["prompt"]["closed"]


@pytest.mark.parametrize(
    "text,message",
    [
        ("questions:\n  q: {ask: 'Is it?', answers: [yes]}\n", "at least two answers"),
        ("questions:\n  q: {ask: 'Is it?', answers: [Yes, 'yes']}\n", "duplicate answers"),
        ("questions:\n  q: {answers: [yes, no]}\n", "no 'ask:'"),
        ("title: nothing\n", "needs 'questions:'"),
    ],
)
def test_bad_codebooks_are_named(vlm, tmp_path, text, message):
    from imagevars.tasks.ask import AskTask

    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        AskTask(str(path), vlm)


def test_a_model_that_is_not_image_text_to_text_is_refused(codebook, tmp_path):
    from imagevars.models.clip import save_random_clip
    from imagevars.models.vlm import VLMError
    from imagevars.tasks.ask import AskTask

    clip = save_random_clip(
        tmp_path / "clip",
        text=dict(
            hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=24
        ),
        vision=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, patch_size=8),
        projection_dim=8,
        image_side=32,
    )
    with pytest.raises(VLMError, match="image-text-to-text"):
        AskTask(codebook, str(clip))


def test_shared_cache_scores_equal_whole_passes_for_every_prompt(vlm, codebook):
    """The image and the shared part of the prompts run once; each prompt and answer on the cache, and the
    log-likelihoods equal one whole pass per answer, for one- and several-token answers."""
    from imagevars.tasks.ask import AskTask

    task = AskTask(codebook, vlm)
    assert task.vlm.shared_prefix is True
    assert "key-value cache" in task.provenance()["vlm"]["scoring"]
    rgb = data.coffee()[::10, ::10].copy()
    prompts = [task.vlm.prompt(q) for q in ("Is it a cup?", "Where was this taken? Answer briefly.", "Colour?")]
    answers = [["yes", "no"], ["indoors", "outdoors", "in a studio"], ["red", "dark brown"]]
    fast = task.vlm.score_prompts(rgb, prompts, answers)
    for got, p, a in zip(fast, prompts, answers):
        assert np.allclose(got, task.vlm.score(rgb, p, a), atol=1e-4)


def test_a_model_whose_cache_disagrees_is_scored_by_whole_passes(vlm, codebook, monkeypatch):
    from imagevars.models.vlm import VisionLanguageModel
    from imagevars.tasks.ask import AskTask

    real = VisionLanguageModel._score_cached
    monkeypatch.setattr(
        VisionLanguageModel, "_score_cached", lambda self, *a: [s + 0.01 for s in real(self, *a)]
    )  # a family where the shortcut is wrong
    task = AskTask(codebook, vlm)
    assert task.vlm.shared_prefix is False and task.provenance()["vlm"]["scoring"] == "one whole pass per answer"
    rgb = data.coffee()[::10, ::10].copy()
    prompt = task.vlm.prompt("Is it a cup?")
    assert np.array_equal(
        task.vlm.score_prompts(rgb, [prompt], [["yes", "no"]])[0], task.vlm.score(rgb, prompt, ["yes", "no"])
    )


def test_carded_models_are_pinned_to_a_commit_with_a_license():
    from imagevars.models.registry import get_card, list_models
    from imagevars.models.vlm import parse_spec

    cards = [get_card(n) for n in list_models() if get_card(n).task == "ask"]
    assert {c.name for c in cards} >= {"smolvlm-256m", "smolvlm-500m", "qwen2.5-vl-3b"}
    for c in cards:
        assert len(c.weights.revision) == 40 and int(c.weights.revision, 16) >= 0 and c.license
        assert parse_spec(c.name) == (c.config["hf_repo"], c.weights.revision)
