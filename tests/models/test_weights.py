import dataclasses

import pytest

import imagevars
from imagevars.io.files import sha256_file
from imagevars.io.http import ChecksumError, DownloadError
from imagevars.models import weights as W


def test_bundled_weights_match_the_card():
    card = imagevars.get_card("mnist-cnn")
    path = W.resolve_weights(card)
    assert path.name == "mnist-cnn.safetensors" and sha256_file(path) == card.weights.sha256
    assert card.training["seed"] == 0 and card.training["command"].startswith("imagevars train mnist")


def test_pretrained_works_offline(monkeypatch):
    monkeypatch.setenv("IMAGEVARS_OFFLINE", "1")
    assert imagevars.create_model("mnist-cnn", pretrained=True).count_params() == 34826


def _hub_card(sha, url):
    card = imagevars.get_card("mnist-cnn")
    return dataclasses.replace(
        card,
        name="hub-cnn",
        weights=dataclasses.replace(card.weights, bundled=False, url=url, filename="hub-cnn.safetensors", sha256=sha),
    )


def test_download_into_cache_then_reuse(tmp_path, serve, isolated_cache):
    src = W.resolve_weights(imagevars.get_card("mnist-cnn"))
    served = tmp_path / "srv"
    served.mkdir()
    (served / "hub-cnn.safetensors").write_bytes(src.read_bytes())
    card = _hub_card(sha256_file(src), serve(served) + "hub-cnn.safetensors")
    got = W.resolve_weights(card, progress=False)
    assert got == isolated_cache / "models" / "hub-cnn" / "hub-cnn.safetensors" and got.exists()
    (served / "hub-cnn.safetensors").unlink()  # the cache is used from now on
    assert W.resolve_weights(card, progress=False) == got


def test_download_with_wrong_checksum_leaves_nothing(tmp_path, serve, isolated_cache):
    served = tmp_path / "srv"
    served.mkdir()
    (served / "hub-cnn.safetensors").write_bytes(b"not the weights")
    card = _hub_card("a" * 64, serve(served) + "hub-cnn.safetensors")
    with pytest.raises(DownloadError, match="does not match the expected"):
        W.resolve_weights(card, progress=False)
    folder = isolated_cache / "models" / "hub-cnn"
    assert not folder.exists() or not any(folder.iterdir())


def test_offline_and_missing_says_how_to_get_it(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    card = _hub_card("a" * 64, "https://example.org/hub-cnn.safetensors")
    with pytest.raises(FileNotFoundError, match="downloads are off .* copy hub-cnn.safetensors to"):
        W.resolve_weights(card)


def test_corrupt_cached_file_is_refused(isolated_cache):
    card = _hub_card("a" * 64, "https://example.org/hub-cnn.safetensors")
    W.cache_path(card).parent.mkdir(parents=True)
    W.cache_path(card).write_bytes(b"junk")
    with pytest.raises(ChecksumError, match="delete it to fetch a fresh copy"):
        W.resolve_weights(card)
