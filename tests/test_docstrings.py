"""Every docstring example in the package runs and shows what it says (STYLE: docstrings with runnable examples).

Examples marked ``# doctest: +SKIP`` (they need a user's files or a download) are read, not run.
"""

import doctest
import importlib
import io
import pkgutil
from pathlib import Path

import pytest

import imagevars

SRC = Path(imagevars.__file__).parent


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(SRC)], "imagevars."):
        if info.name.endswith("__main__"):
            continue  # importing it runs the command line
        names.append(info.name)
    return sorted(names)


def test_the_package_has_modules_to_check():
    assert len(_modules()) > 100 and "imagevars.validate.stability" in _modules()


@pytest.mark.parametrize("name", _modules())
def test_the_examples_in_a_module_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = io.StringIO()
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test, out=report.write)
    assert runner.failures == 0, report.getvalue()[-3000:]
