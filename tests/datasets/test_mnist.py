import shutil

import numpy as np
import pytest

import imagevars
from imagevars.datasets import mnist
from imagevars.datasets.idx import DataError
from imagevars.io.http import DownloadError


def test_load_data_keras_shapes(mnist):
    (train_X, train_Y), (test_X, test_Y) = mnist
    assert train_X.shape == (60000, 28, 28) and train_X.dtype == np.uint8
    assert train_Y.shape == (60000,) and test_X.shape == (10000, 28, 28) and test_Y.shape == (10000,)
    assert train_Y[:5].tolist() == [5, 0, 4, 1, 9] and test_Y[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(test_Y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_found_through_imagevars_data(mnist_dir, monkeypatch):
    monkeypatch.setenv("IMAGEVARS_DATA", str(mnist_dir))
    (_, _), (_, test_Y) = imagevars.datasets.mnist.load_data(download=False)
    assert len(test_Y) == 10000


def test_download_from_local_mirror_into_cache(mnist_dir, serve, isolated_cache, monkeypatch):
    monkeypatch.delenv("IMAGEVARS_DATA")
    dead = serve(isolated_cache.parent / "nothing-here")  # 404 for every file: the next mirror is tried
    live = serve(mnist_dir)
    (train_X, _), (_, test_Y) = mnist.load_data(mirrors=[dead, live], progress=False)
    assert train_X.shape == (60000, 28, 28) and test_Y[:3].tolist() == [7, 2, 1]
    cached = sorted(p.name for p in (isolated_cache / "datasets" / "mnist").iterdir())
    assert cached == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ]
    # second call: from the cache, no server needed
    (_, _), (_, again) = mnist.load_data(mirrors=["http://127.0.0.1:9/"], progress=False)
    np.testing.assert_array_equal(again, test_Y)


def test_download_of_wrong_content_is_refused_and_removed(mnist_dir, serve, tmp_path, isolated_cache, monkeypatch):
    monkeypatch.delenv("IMAGEVARS_DATA")
    bad = tmp_path / "bad"
    shutil.copytree(mnist_dir, bad)
    # a mirror serving the training labels under the test labels' name
    shutil.copy(bad / "train-labels-idx1-ubyte.gz", bad / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz has sha256 .* corrupt or a different file"):
        mnist.load_data(mirrors=[serve(bad)], progress=False)
    assert not (isolated_cache / "datasets" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()


def test_offline_without_data_says_how_to_get_it(monkeypatch):
    monkeypatch.delenv("IMAGEVARS_DATA")
    monkeypatch.setenv("IMAGEVARS_OFFLINE", "1")
    with pytest.raises(DataError, match="MNIST not found in .*allow download"):
        mnist.load_data()


def test_unreachable_mirrors_error_lists_them(monkeypatch):
    monkeypatch.delenv("IMAGEVARS_DATA")
    with pytest.raises(DownloadError, match="could not download MNIST train-images-idx3-ubyte.gz"):
        mnist.load_data(mirrors=["http://127.0.0.1:9/"], progress=False)


def test_partial_folder_names_missing_files(mnist_dir, tmp_path):
    shutil.copy(mnist_dir / "train-images-idx3-ubyte.gz", tmp_path)
    with pytest.raises(DataError, match="holds only part of MNIST: missing train-labels-idx1-ubyte"):
        mnist.load_data(tmp_path)


def test_corrupt_local_file(mnist_dir, tmp_path):
    for f in mnist_dir.iterdir():
        shutil.copy(f, tmp_path)
    data = (tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes()
    import gzip

    raw = bytearray(gzip.decompress(data))
    raw[100] ^= 0xFF  # one flipped label byte
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(bytes(raw))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte has sha256"):
        mnist.load_data(tmp_path)
    (_, _), (_, y) = mnist.load_data(tmp_path, verify=False)  # the user can opt out knowingly
    assert len(y) == 10000
