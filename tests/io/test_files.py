"""Files are replaced whole or not at all, and two writers never share a temporary file."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from imagevars.io.files import atomic_write


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "vars.csv"
    target.write_text("old, whole\n")

    def half_then_crash(tmp: str) -> None:
        Path(tmp).write_text("new, half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_crash)
    assert target.read_text() == "old, whole\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vars.csv"]


def test_concurrent_writers_each_get_their_own_temporary_and_the_file_ends_whole(tmp_path):
    target = tmp_path / "shared.txt"
    seen, barrier = [], threading.Barrier(8)

    def writer(k: int) -> None:
        def write(tmp: str) -> None:
            seen.append(tmp)
            barrier.wait(timeout=10)  # all eight temporaries exist at once
            Path(tmp).write_text(str(k) * 10_000)

        atomic_write(target, write)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 8
    text = target.read_text()
    assert len(text) == 10_000 and len(set(text)) == 1  # one writer's whole content, never a mix
    assert [p.name for p in tmp_path.iterdir()] == ["shared.txt"]


def test_the_suffix_keeps_an_extension_for_writers_that_need_one(tmp_path):
    from PIL import Image

    out = atomic_write(tmp_path / "a.jpg", Image.new("RGB", (8, 8)).save, suffix=".tmp.jpg")
    assert Image.open(out).format == "JPEG"
