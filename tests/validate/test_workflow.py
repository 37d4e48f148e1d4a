"""validate sample -> (coding) -> agree -> estimate, from the command line, on a table with known truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from PIL import Image

import imagevars
from imagevars.cli import main
from imagevars.io.table import Results
from imagevars.validate import sample
from known_truth import BETA, world  # tests/helpers


@pytest.fixture
def listings(tmp_path):
    """3,000 listings: the detector's person_present in an imagevars table, the truth and sales beside it."""
    rng = np.random.default_rng(5)
    price, person, sales, detected = world(rng, 3000)
    sources = [f"photos/{i:04d}.jpg" for i in range(3000)]
    table = pa.table(
        {"source": sources, "error": pa.array([None] * 3000, pa.string()), "detect_person_any": detected.astype(bool)}
    )
    Results(table, {"tasks": [{"name": "detect"}]}).write(tmp_path / "vars.parquet")
    pd.DataFrame({"source": sources, "sales": sales, "price": price}).to_csv(tmp_path / "listings.csv", index=False)
    truth = pd.DataFrame({"source": sources, "person_present": np.where(person == 1, "yes", "no")})
    return tmp_path, truth


def test_a_stratified_sample_is_reproducible_grows_without_redrawing_and_records_probabilities(listings):
    folder, _ = listings
    a = sample(folder / "vars.parquet", 200, strata="detect_person_any", seed=1, out=folder / "coding")
    again = sample(folder / "vars.parquet", 200, strata="detect_person_any", seed=1)
    assert a["source"].tolist() == again["source"].tolist()
    sizes = a.groupby("stratum").size()
    assert sizes.to_dict() == {"False": 100, "True": 100}  # equal allocation: the rarer class over-sampled
    counts = pd.read_parquet(folder / "vars.parquet")["detect_person_any"].value_counts()
    for stratum, n_all in (("True", counts[True]), ("False", counts[False])):
        assert np.allclose(a.loc[a["stratum"] == stratum, "inclusion_probability"], 100 / n_all)
    more = sample(folder / "vars.parquet", 300, strata="detect_person_any", seed=1, out=folder / "coding")
    assert set(a["source"]) < set(more["source"]) and len(more) == 300
    assert len(pd.read_csv(folder / "coding" / "sample.csv")) == 300
    record = json.loads((folder / "coding" / "provenance.json").read_text())
    assert record["inputs"]["table"]["sha256"] and record["tasks"][0]["params"]["seed"] == 1
    assert record["drawn"] == {"False": 150, "True": 150}
    with pytest.raises(ValueError, match="a sample only grows"):
        sample(folder / "vars.parquet", 300, strata="detect_person_any", seed=2, out=folder / "coding")
    with pytest.raises(ValueError, match="--n 5000: the table has 3000 images"):
        sample(folder / "vars.parquet", 5000)


def test_estimates_from_the_command_line_correct_the_detectors_bias(listings, capsys):
    folder, truth = listings
    drawn = sample(folder / "vars.parquet", 400, strata="detect_person_any", seed=0)
    gold = drawn.merge(truth, on="source")
    gold.to_csv(folder / "gold.csv", index=False)
    out = folder / "est"
    assert (
        main(
            [
                "validate",
                "estimate",
                str(folder / "vars.parquet"),
                "--gold",
                str(folder / "gold.csv"),
                "--predicted",
                "detect_person_any",
                "--truth",
                "person_present",
                "--formula",
                "sales ~ person_present + price",
                "--data",
                str(folder / "listings.csv"),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "report DSL" in printed  # a stratified sample: the note says which estimate to report
    est = pd.read_csv(out / "estimates.csv").set_index(["estimator", "term"])
    naive, dsl = est.loc[("naive", "person_present")], est.loc[("DSL", "person_present")]
    assert not naive["low"] <= BETA <= naive["high"] and naive["estimate"] < BETA - 0.3  # errors bias it down
    assert dsl["low"] <= BETA <= dsl["high"]
    assert (out / "estimates.png").exists()
    record = json.loads((out / "provenance.json").read_text())
    assert record["tasks"][0]["params"]["formula"] == "sales ~ person_present + price"
    # a proportion: the mean of the variable, corrected
    assert (
        main(
            [
                "validate",
                "estimate",
                str(folder / "vars.parquet"),
                "--gold",
                str(folder / "gold.csv"),
                "--predicted",
                "detect_person_any",
                "--truth",
                "person_present",
            ]
        )
        == 0
    )
    assert "DSL" in capsys.readouterr().out


@pytest.mark.parametrize(
    "change, says",
    [
        (lambda g: pd.concat([g, g.iloc[:1].assign(source="photos/elsewhere.jpg")]), "not in the table"),
        (lambda g: g.assign(person_present="no"), "has no positives"),
        (lambda g: g.assign(person_present="maybe"), "neither a number nor yes/no"),
    ],
)
def test_gold_that_cannot_be_used_is_refused(listings, capsys, change, says):
    folder, truth = listings
    gold = change(sample(folder / "vars.parquet", 100, seed=0).merge(truth, on="source"))
    gold.to_csv(folder / "gold.csv", index=False)
    assert (
        main(
            [
                "validate",
                "estimate",
                str(folder / "vars.parquet"),
                "--gold",
                str(folder / "gold.csv"),
                "--predicted",
                "detect_person_any",
                "--truth",
                "person_present",
            ]
        )
        == 2
    )
    assert says in capsys.readouterr().err


def test_a_formula_naming_a_missing_column_is_refused(listings, capsys):
    folder, truth = listings
    sample(folder / "vars.parquet", 100, seed=0).merge(truth, on="source").to_csv(folder / "gold.csv", index=False)
    assert (
        main(
            [
                "validate",
                "estimate",
                str(folder / "vars.parquet"),
                "--gold",
                str(folder / "gold.csv"),
                "--predicted",
                "detect_person_any",
                "--truth",
                "person_present",
                "--formula",
                "sales ~ person_present + rooms",
                "--data",
                str(folder / "listings.csv"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "--formula 'sales ~ person_present + rooms'" in err and "rooms" in err


def test_sample_writes_the_coding_page_for_real_images(tmp_path, capsys):
    import skimage.data as data

    for name in ("chelsea", "coffee", "astronaut", "rocket", "camera", "page"):
        Image.fromarray(getattr(data, name)()).save(tmp_path / f"{name}.png")
    res = imagevars.run(["quality"], tmp_path, tmp_path / "vars.parquet", progress=False)
    assert res.n_errors == 0
    assert (
        main(
            [
                "validate",
                "sample",
                str(tmp_path / "vars.parquet"),
                "--n",
                "4",
                "--strata",
                "quality_brightness:2",
                "--seed",
                "3",
                "-o",
                str(tmp_path / "coding"),
            ]
        )
        == 0
    )
    page = (tmp_path / "coding" / "coder.html").read_text()
    drawn = pd.read_csv(tmp_path / "coding" / "sample.csv")
    assert len(drawn) == 4 and page.count("data:image/jpeg;base64,") == 4
    assert all(s in page for s in drawn["source"])
    assert "open" in capsys.readouterr().out
