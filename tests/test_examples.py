"""The gallery: every example parses, says what it shows and how to run it; the learn examples run (slow)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").rglob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_an_example_parses_and_its_docstring_says_what_it_shows_and_how_to_run_it(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    doc = ast.get_docstring(tree)
    assert doc and doc.splitlines()[0].strip(), f"{path}: the docstring's first line is the gallery title"
    assert f"Run: python examples/{path.parent.name}/{path.name}" in doc


@pytest.mark.slow
@pytest.mark.parametrize("name", ["plot_auction_prices.py", "plot_brand_attributes.py", "plot_professional_photos.py"])
def test_a_study_example_runs(name):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).parent.parent / "examples" / "learn" / name)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Report" in done.stdout or "Reports" in done.stdout
