import gzip

import numpy as np
import pytest

from imagevars.datasets import idx
from imagevars.datasets.idx import DataError


def _idx(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def test_parse_roundtrip_raw_and_gzip(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw, gz = tmp_path / "a-idx3-ubyte", tmp_path / "a-idx3-ubyte.gz"
    raw.write_bytes(_idx(arr))
    gz.write_bytes(gzip.compress(_idx(arr)))
    np.testing.assert_array_equal(idx.load(raw), arr)
    np.testing.assert_array_equal(idx.load(gz), arr)


def test_truncated_file_names_file_and_sizes(tmp_path):
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(_idx(np.zeros((3, 28, 28)))[:-100])
    with pytest.raises(
        DataError, match=r"train-images-idx3-ubyte is truncated: 2,268 bytes where shape \(3, 28, 28\) needs 2,368"
    ):
        idx.load(p)


def test_truncated_header(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(DataError, match="truncated inside its header"):
        idx.load(p)


def test_wrong_magic_number(tmp_path):
    p = tmp_path / "labels"
    p.write_bytes(b"GIF89a" + bytes(100))
    with pytest.raises(DataError, match="not an IDX file: magic number 47494638"):
        idx.load(p)


def test_wrong_checksum(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(_idx(np.ones((2, 2))))
    with pytest.raises(DataError, match="corrupt or a different file"):
        idx.load(p, sha256="0" * 64)


def test_damaged_gzip(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(_idx(np.ones((50, 50))))[:-20])
    with pytest.raises(DataError, match="damaged gzip"):
        idx.load(p)
