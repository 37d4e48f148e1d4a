"""Agreement statistics against hand-computed textbook values, and the model against the coders' gold."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from imagevars.cli import main
from imagevars.io.table import Results
from imagevars.validate.agree import agree, kappa_alpha
from imagevars.validate.codebook import load_codebook


def _coder(path, name, answers, question="person_present", probability=None):
    df = pd.DataFrame({"source": [f"img{i}.jpg" for i in range(len(answers))], "coder": name, question: answers})
    if probability is not None:
        df["inclusion_probability"] = probability
    df.to_csv(path, index=False)
    return path


def test_cohens_kappa_matches_the_textbook_two_by_two():
    """50 items: both yes 20, A yes B no 5, A no B yes 10, both no 15: p_o 0.70, p_e 0.50, kappa 0.40."""
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    got = kappa_alpha(np.array([a, b]), ["no", "yes"], "nominal")
    assert round(got["kappa"], 6) == 0.4


def test_krippendorffs_alpha_matches_his_worked_example():
    """Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 coders, 12 units, blanks where a
    coder left a unit out. His results: nominal 0.743, ordinal 0.815."""
    rows = ["1 2 3 3 2 1 4 1 2 . . .", "1 2 3 3 2 2 4 1 2 5 . 3", ". 3 3 3 2 3 4 2 2 5 1 .", "1 2 3 3 2 4 4 1 2 5 1 ."]
    m = np.array([["" if v == "." else v for v in r.split()] for r in rows], dtype=object)
    order = ["1", "2", "3", "4", "5"]
    assert round(kappa_alpha(m, order, "nominal")["alpha"], 3) == 0.743
    assert round(kappa_alpha(m, order, "ordinal")["alpha"], 3) == 0.815


def test_coders_files_agreement_disagreements_and_the_model_weighted(tmp_path, capsys):
    truth = ["yes"] * 30 + ["no"] * 30
    b = list(truth)
    b[0], b[40] = "no", "yes"  # two disagreements
    _coder(tmp_path / "coder_A.csv", "A", truth, probability=[0.5] * 30 + [0.1] * 30)
    _coder(tmp_path / "coder_B.csv", "B", b, probability=[0.5] * 30 + [0.1] * 30)
    detected = np.array([True] * 25 + [False] * 5 + [False] * 27 + [True] * 3)  # misses 5 people, 3 false alarms
    Results(
        pa.table(
            {
                "source": [f"img{i}.jpg" for i in range(60)],
                "error": pa.array([None] * 60, pa.string()),
                "detect_person_any": detected,
            }
        ),
        {},
    ).write(tmp_path / "vars.parquet")
    assert (
        main(
            [
                "validate",
                "agree",
                str(tmp_path / "coder_A.csv"),
                str(tmp_path / "coder_B.csv"),
                "--against",
                str(tmp_path / "vars.parquet"),
                "--variable",
                "detect_person_any",
                "--truth",
                "person_present",
                "-o",
                str(tmp_path / "agreement"),
            ]
        )
        == 0
    )
    assert "2 disagreement(s)" in capsys.readouterr().out
    result = agree(
        [tmp_path / "coder_A.csv", tmp_path / "coder_B.csv"],
        table=tmp_path / "vars.parquet",
        variable="detect_person_any",
        truth="person_present",
        boot=200,
    )
    r = result["coders"]["person_present"]
    assert r["items"] == 60 and r["kappa"]["low"] < r["kappa"]["estimate"] < r["kappa"]["high"]
    assert abs(r["kappa"]["estimate"] - (1 - 2 / 60 - 0.5) / 0.5) < 1e-9  # p_o 58/60, p_e 0.5
    m = result["model"]
    assert m["n"] == 58 and m["items_coders_disagree_on"] == 2
    # weighted: each "no" image stands for 10 images, each "yes" for 2, so the false alarms count 5 times more
    unweighted_accuracy = (24 + 26) / 58  # of the 58 agreed items: 24 of 29 people found, 26 of 29 without right
    weighted = (24 * 2 + 26 * 10) / (29 * 2 + 29 * 10)
    assert abs(m["accuracy"] - weighted) < 1e-9 and abs(m["accuracy"] - unweighted_accuracy) > 0.01
    assert (tmp_path / "agreement" / "disagreements.csv").read_text().count("img") == 2


def test_coders_who_coded_different_items_or_answers_outside_the_codebook_are_refused(tmp_path):
    _coder(tmp_path / "a.csv", "A", ["yes", "no", "yes"])
    _coder(tmp_path / "b.csv", "B", ["yes", "no"])
    with pytest.raises(ValueError, match=r"coded different items \(2 in common; A 1 more\)"):
        agree([tmp_path / "a.csv", tmp_path / "b.csv"])
    (tmp_path / "book.yaml").write_text(
        "title: t\nquestions:\n  - name: person_present\n    question: A person?\n"
        "    answers: [{label: 'yes', key: y}, {label: 'no', key: n}]\n"
    )
    _coder(tmp_path / "b.csv", "B", ["yes", "no", "perhaps"])
    with pytest.raises(ValueError, match="'perhaps' are not in the codebook"):
        agree([tmp_path / "a.csv", tmp_path / "b.csv"], codebook=load_codebook(tmp_path / "book.yaml"))
    (tmp_path / "bad.yaml").write_text(
        "questions:\n  - name: q\n    question: Q?\n    answers: [{label: 'yes', key: b}, {label: 'no', key: n}]\n"
    )
    with pytest.raises(ValueError, match="not b, s or f"):
        load_codebook(tmp_path / "bad.yaml")


def test_a_score_gets_auc_thresholds_and_a_calibration_curve(tmp_path):
    rng = np.random.default_rng(0)
    truth = rng.random(400) < 0.3
    score = np.clip(np.where(truth, rng.beta(5, 2, 400), rng.beta(2, 5, 400)), 0, 1)  # higher for the positives
    answers = np.where(truth, "yes", "no")
    _coder(tmp_path / "a.csv", "A", answers)
    _coder(tmp_path / "b.csv", "B", answers)
    Results(
        pa.table(
            {
                "source": [f"img{i}.jpg" for i in range(400)],
                "error": pa.array([None] * 400, pa.string()),
                "clip_person": score,
            }
        ),
        {},
    ).write(tmp_path / "vars.parquet")
    r = agree(
        [tmp_path / "a.csv", tmp_path / "b.csv"],
        table=tmp_path / "vars.parquet",
        variable="clip_person",
        truth="person_present",
        out=tmp_path / "agreement",
        boot=50,
    )["model"]
    assert 0.85 < r["auc"] < 0.99 and 0.3 < r["threshold_best_f1"]["threshold"] < 0.7
    share_above = np.mean(score >= r["threshold_matching_prevalence"])
    assert abs(share_above - truth.mean()) < 0.02  # the threshold that makes the model's prevalence the gold's
    rates = [c["gold_rate"] for c in r["calibration"]]
    assert rates[0] < 0.1 and rates[-1] > 0.8 and (tmp_path / "agreement" / "calibration.png").exists()
    record = json.loads((tmp_path / "agreement" / "provenance.json").read_text())
    assert record["inputs"]["coder_1"]["sha256"] and record["tasks"][0]["params"]["truth"] == "person_present"


def test_a_codebook_with_unquoted_yes_and_no_keeps_the_words(tmp_path):
    """PyYAML's YAML 1.1 rules would read the answers yes and no as True and False."""
    from imagevars.validate.codebook import load_codebook

    path = tmp_path / "codebook.yaml"
    path.write_text(
        "title: t\nquestions:\n  - name: smiling\n    question: Is anyone smiling?\n"
        "    answers:\n      - {label: yes, key: y}\n      - {label: no, key: n}\n"
    )
    assert [a for a, _ in load_codebook(path).questions[0].answers] == ["yes", "no"]


def test_the_ask_codebook_drives_the_coding_page_too(tmp_path):
    """One file for the model (imagevars run ask) and the people (imagevars validate sample)."""
    from imagevars.validate.codebook import load_codebook

    path = tmp_path / "codebook.yaml"
    path.write_text(
        'questions:\n  smiling: {ask: "Is anyone smiling?", answers: [yes, no]}\n'
        '  setting: {ask: "Where?", answers: [indoors, outdoors, studio]}\n'
        '  caption: {ask: "Describe it.", free: true}\n'
    )
    book = load_codebook(path)
    assert [q.name for q in book.questions] == ["smiling", "setting"]  # free text is for the model only
    assert book.questions[1].answers == [("indoors", "1"), ("outdoors", "2"), ("studio", "3")]
    assert book.questions[0].question == "Is anyone smiling?"
