"""Stata and SPSS names: one deterministic shortening rule, unique names, the long name kept as the label,
and every rename said; never a silent one."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest

from imagevars.io.names import SPSS, STATA, format_names, short_name
from imagevars.io.table import Results

LONG = "classify_probability_of_a_golden_retriever"
LONG_TOO = "classify_probability_of_a_golden_retriever_puppy"  # the same first 32 characters


def test_long_names_become_unique_stata_names_with_the_long_name_as_label(tmp_path):
    table = pa.table(
        {
            "source": ["a.jpg", "b.jpg"],
            LONG: [0.1, 0.2],
            LONG_TOO: [0.3, 0.4],
            "quality_width": [1, 2],
            "2nd place": ["x", "y"],
        }
    )
    with pytest.warns(UserWarning, match=r"3 column name\(s\) changed for Stata") as said:
        path = Results(table, {"version": "0.2.0"}).to_stata(tmp_path / "vars.dta")
    assert LONG in str(said[0].message) and "vars.dta.provenance.json" in str(said[0].message)
    with pd.io.stata.StataReader(path) as reader:
        df, labels = reader.read(), reader.variable_labels()
    renamed = {LONG: short_name(LONG), LONG_TOO: short_name(LONG_TOO), "2nd place": short_name("2nd place")}
    assert len(set(renamed.values())) == 3 and all(len(n) <= 32 for n in renamed.values())
    assert list(df.columns) == ["source", renamed[LONG], renamed[LONG_TOO], "quality_width", renamed["2nd place"]]
    assert df[renamed[LONG_TOO]].tolist() == [0.3, 0.4]  # the values stay with their own column
    assert {labels[new] for new in renamed.values()} == set(renamed)  # each long name is its label
    sidecar = json.loads((tmp_path / "vars.dta.provenance.json").read_text())
    assert sidecar["renamed"]["stata"] == renamed


def test_the_rule_depends_only_on_the_name_and_keeps_valid_names():
    assert short_name(LONG) == short_name(LONG) != short_name(LONG_TOO)
    assert format_names(["source", "detect_person_max", "x" * 32]) == {}
    assert short_name("_n").startswith("_n_") and short_name("str12").startswith("str12_")  # Stata's reserved words
    assert STATA.ok(short_name("ünïcode name")) and SPSS.ok(short_name("_private", SPSS))
    assert SPSS.ok("x" * 64) and not SPSS.ok("with") and not SPSS.ok("ends.")


def test_two_columns_that_would_share_a_name_are_an_error_not_a_second_rename():
    name = short_name("a b")
    with pytest.raises(ValueError, match=rf"columns {name!r} and 'a b' both become {name!r} in Stata"):
        format_names([name, "a b"])


def test_the_command_line_says_each_rename_in_one_line(tmp_path, capsys):
    from PIL import Image

    from imagevars.cli import main

    Image.new("RGB", (20, 10)).save(tmp_path / "a.png")
    (tmp_path / "m.csv").write_text(f"path,{LONG}\n{tmp_path / 'a.png'},1\n")
    code = main(
        [
            "run",
            "quality",
            str(tmp_path / "m.csv"),
            "--path-column",
            "path",
            "--keep",
            LONG,
            "-o",
            str(tmp_path / "v.dta"),
            "-q",
            "--workers",
            "0",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 0 and len(err) == 1
    assert err[0].startswith("imagevars run: note: ") and f"{LONG!r} -> {short_name(LONG)!r}" in err[0]
