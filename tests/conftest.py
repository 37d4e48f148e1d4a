"""Shared fixtures: real MNIST from ../shared, an isolated cache, a local HTTP server."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _mnist_dir() -> Path | None:
    candidates = [ROOT.parent / "shared" / "data" / "mnist"]
    if os.environ.get("IMAGEVARS_DATA"):
        base = Path(os.environ["IMAGEVARS_DATA"])
        candidates += [base / "mnist", base]
    return next((p for p in candidates if (p / "t10k-labels-idx1-ubyte.gz").exists()), None)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    found = _mnist_dir()
    if found is None:
        pytest.skip("MNIST IDX files not found in ../shared/data/mnist or $IMAGEVARS_DATA")
    return found


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    from imagevars.datasets import mnist as m

    return m.load_data(mnist_dir)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test gets an empty cache; MNIST stays reachable through IMAGEVARS_DATA."""
    monkeypatch.setenv("IMAGEVARS_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("IMAGEVARS_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    found = _mnist_dir()
    if found is not None:
        monkeypatch.setenv("IMAGEVARS_DATA", str(found.parent if found.name == "mnist" else found))
    return tmp_path / "cache"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def serve():
    """serve(folder) -> base URL of a loopback HTTP server for that folder; stopped after the test."""
    from sockets import serving  # tests/helpers

    with contextlib.ExitStack() as servers:

        def start(folder: Path) -> str:
            port = servers.enter_context(serving(functools.partial(_Quiet, directory=str(folder))))
            return f"http://127.0.0.1:{port}/"

        yield start


@pytest.fixture(scope="session")
def small_mnist(mnist):
    """3,000 training and 1,000 test images: enough to learn, quick to fit."""
    (tx, ty), (vx, vy) = mnist
    return (np.ascontiguousarray(tx[:3000]), ty[:3000]), (vx[:1000], vy[:1000])


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """An empty Hugging Face cache under $IMAGEVARS_HOME (returned) and downloads off: tests put snapshots
    there with imagevars.testing.put_in_hub_cache, as a download would have."""
    monkeypatch.setenv("IMAGEVARS_HOME", str(tmp_path))
    monkeypatch.setenv("IMAGEVARS_OFFLINE", "1")
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return tmp_path / "hf"


@pytest.fixture
def browser(tmp_path):
    """A headless Chromium (tests/helpers/browser.py), closed after the test; downloads go to tmp_path/downloads."""
    from browser import chromium

    driver = chromium(tmp_path / "downloads")
    yield driver
    driver.quit()
