"""Nothing lost, nothing doubled: resume by identity when the inputs changed, one writer per output.

Each test makes the fault (an interrupted run, inputs changed before the re-run, a second
writer, a name that is not UTF-8) and compares with an uninterrupted run on the current inputs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

import imagevars
from imagevars.pipeline.sink import OutputBusy
from imagevars.tasks import Task


class _Width(Task):
    """The image width; raises KeyboardInterrupt at its ``interrupt_at``-th call (a user's Ctrl-C)."""

    name = "w"
    max_side = None

    def __init__(self, interrupt_at: int | None = None):
        self.interrupt_at, self.calls = interrupt_at, 0

    def preprocessor(self):
        return _width

    def fields(self):
        import pyarrow as pa

        return [pa.field("w_width", pa.int64())]

    def __call__(self, batch):
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        return {"w_width": list(batch)}


def _width(decoded):
    return decoded.width


def _images(folder, widths):
    folder.mkdir(parents=True, exist_ok=True)
    for name, w in widths.items():
        Image.new("RGB", (w, 10), (w % 256, 0, 0)).save(folder / name)


OPTS = dict(workers=0, progress=False, batch_size=2, chunk_rows=2)


def _interrupted(src, out, at=3):
    with pytest.raises(KeyboardInterrupt):
        imagevars.run([_Width(interrupt_at=at)], src, out, **OPTS)
    assert list(out.with_name(out.name + ".parts").glob("part-*.parquet")), "some rows should be saved"


def test_inputs_added_and_removed_between_kill_and_resume(tmp_path):
    src, out = tmp_path / "p", tmp_path / "v.parquet"
    _images(src, {f"{i:02d}.png": 10 + i for i in range(10, 20)})
    _interrupted(src, out)
    (src / "11.png").unlink()  # measured before the interruption, gone now
    (src / "18.png").unlink()  # not yet measured, gone now
    _images(src, {"00.png": 3, "15b.png": 77})  # sorts first; sorts in the middle
    resumed = imagevars.run([_Width()], src, out, **OPTS)
    clean = imagevars.run([_Width()], src, tmp_path / "clean.parquet", **OPTS)
    assert pq.read_table(out).equals(pq.read_table(tmp_path / "clean.parquet"))
    df = pq.read_table(out).to_pandas()
    assert df["source"].tolist() == sorted(str(p) for p in src.iterdir()) and df["source"].is_unique
    assert resumed.provenance["counts"]["skipped"] > 0 and len(clean) == 10


def test_a_manifest_reordered_with_a_repeated_file_resumes_by_identity(tmp_path):
    src = tmp_path / "p"
    _images(src, {f"{c}.png": 20 + k for k, c in enumerate("abcdef")})
    listing = tmp_path / "list.txt"
    order = ["a", "b", "a", "c", "d", "e", "f"]  # `a` twice: two rows, two items
    listing.write_text("\n".join(str(src / f"{c}.png") for c in order))
    out = tmp_path / "v.parquet"
    _interrupted(listing, out)
    listing.write_text("\n".join(str(src / f"{c}.png") for c in reversed(order)))
    imagevars.run([_Width()], listing, out, **OPTS)
    imagevars.run([_Width()], listing, tmp_path / "clean.parquet", **OPTS)
    assert pq.read_table(out).equals(pq.read_table(tmp_path / "clean.parquet"))
    assert pq.read_table(out).column("source").to_pylist() == [str(src / f"{c}.png") for c in reversed(order)]


def test_a_reconcile_killed_half_way_is_finished_by_the_next_run(tmp_path, monkeypatch):
    """Old parts rewritten but not yet removed: the next run keeps one copy of each input."""

    src, out = tmp_path / "p", tmp_path / "v.parquet"
    _images(src, {f"{i:02d}.png": 10 + i for i in range(10, 20)})
    _interrupted(src, out, at=4)
    _images(src, {"00.png": 3})
    real_unlink, calls = type(src).unlink, []

    def dies_after_writing(path, *args, **kwargs):  # the first removal of an old part: the process dies
        if path.name.startswith("part-") and not calls:
            calls.append(path)
            raise KeyboardInterrupt
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(type(src), "unlink", dies_after_writing)
    with pytest.raises(KeyboardInterrupt):
        imagevars.run([_Width()], src, out, **OPTS)
    monkeypatch.undo()
    imagevars.run([_Width()], src, out, **OPTS)
    imagevars.run([_Width()], src, tmp_path / "clean.parquet", **OPTS)
    assert calls and pq.read_table(out).equals(pq.read_table(tmp_path / "clean.parquet"))


def test_a_second_run_on_the_same_output_is_refused_and_told_who_holds_it(tmp_path):
    src, out = tmp_path / "p", tmp_path / "v.parquet"
    _images(src, {f"{i}.png": 10 + i for i in range(4)})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from imagevars.pipeline.sink import PartsSink; "
                f"s = PartsSink({str(out)!r}, {{'x': 1}}); print('held', flush=True); time.sleep(60)"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputBusy, match=rf"being written by another run \(process {holder.pid} on "):
            imagevars.run([_Width()], src, out, **OPTS)
    finally:
        holder.kill()
        holder.wait()
    # killed (SIGKILL): the operating system released the lock; a run of the same settings goes on
    from imagevars.pipeline.sink import PartsSink

    PartsSink(out, {"x": 1}).release()


def test_a_file_name_that_is_not_utf8_is_measured_and_its_source_round_trips(tmp_path):
    src = tmp_path / "p"
    src.mkdir()
    name = os.fsdecode(b"bad\xffname.png")
    Image.new("RGB", (33, 10)).save(os.path.join(src, name))
    Image.new("RGB", (44, 10)).save(src / "good.png")
    out = tmp_path / "v.parquet"
    table = imagevars.run([_Width()], src, out, **OPTS).to_pandas()
    assert table["error"].isna().all() and sorted(table["w_width"]) == [33, 44]
    bad = table.loc[table["w_width"] == 33, "source"].item()
    assert bad == str(src / "bad\\xffname.png")  # the byte that is not UTF-8, written as \xff
    listing = tmp_path / "again.txt"  # the source column fed back finds the same files
    listing.write_text("\n".join(table["source"]))
    again = imagevars.run([_Width()], listing, **{k: v for k, v in OPTS.items()}).to_pandas()
    assert again["error"].isna().all() and again["w_width"].tolist() == table["w_width"].tolist()


def test_keep_with_a_folder_is_refused_before_any_work(tmp_path):
    _images(tmp_path / "p", {"a.png": 5})
    with pytest.raises(ValueError, match="carries columns of a CSV or Parquet manifest"):
        imagevars.run(["quality"], tmp_path / "p", keep=["brand"], **OPTS)


def test_parts_are_flushed_by_time_as_well_as_by_rows(tmp_path):
    import pyarrow as pa

    from imagevars.pipeline.sink import PartsSink

    sink = PartsSink(tmp_path / "v.parquet", {"x": 1}, chunk_rows=1000, flush_s=0.2)
    batch = pa.RecordBatch.from_pydict({"source": ["a"], "_index": [0], "_key": ["0||a"]})
    sink.add(batch)
    assert not list(sink.parts.glob("part-*.parquet"))  # one row: not yet
    time.sleep(0.25)
    sink.add(pa.RecordBatch.from_pydict({"source": ["b"], "_index": [1], "_key": ["0||b"]}))
    assert len(list(sink.parts.glob("part-*.parquet"))) == 1  # written although far from 1,000 rows
    sink.release()


@pytest.mark.parametrize("column", ["source", "error", "frame", "quality_width"])
def test_a_kept_column_that_clashes_is_refused_before_any_work(tmp_path, column):
    import pandas as pd

    _images(tmp_path / "p", {"a.png": 5})
    manifest = tmp_path / "m.csv"
    pd.DataFrame({"path": [str(tmp_path / "p" / "a.png")], column: ["theirs"]}).to_csv(manifest, index=False)
    out = tmp_path / "v.parquet"
    with pytest.raises(ValueError, match=f"--keep {column}: the column '{column}' would clash"):
        imagevars.run(["quality"], manifest, out, keep=[column], **OPTS)
    assert not out.exists() and not out.with_name(out.name + ".parts").exists()


def test_a_design_column_that_clashes_is_refused_before_drawing(tmp_path):
    from imagevars.generation import generate

    design = tmp_path / "design.csv"
    design.write_text("prompt,source\na cat,theirs\n")
    with pytest.raises(ValueError, match="source: the column 'source' would clash"):
        generate(design=design, output=tmp_path / "out", generator=object(), progress=False)


def test_the_output_may_not_be_the_input_manifest(tmp_path):
    _images(tmp_path / "p", {"a.png": 5})
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"path\n{tmp_path / 'p' / 'a.png'}\n")
    before = manifest.read_text()
    with pytest.raises(ValueError, match="is the input .*write to another file"):
        imagevars.run(["quality"], manifest, manifest, **OPTS)
    assert manifest.read_text() == before


def test_weights_given_by_path_are_recorded_with_their_own_sha256(tmp_path):
    from imagevars.io.files import sha256_file

    theirs = imagevars.create_model("mnist-cnn").save(tmp_path / "mine", onnx=False) / "model.safetensors"
    model = imagevars.create_model("mnist-cnn", weights=theirs)
    official = imagevars.get_card("mnist-cnn").weights.sha256
    assert model.card.weights.sha256 == sha256_file(theirs) != official


def test_the_cli_fails_when_nothing_was_measured(tmp_path, capsys):
    from imagevars.cli import main

    (tmp_path / "empty").mkdir()
    assert main(["run", "quality", str(tmp_path / "empty"), "-q", "--workers", "0"]) == 1
    assert "holds no images to measure" in capsys.readouterr().err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.jpg").write_bytes(b"not an image")
    assert main(["run", "quality", str(tmp_path / "bad"), "-q", "--workers", "0"]) == 1
    assert "no input could be measured" in capsys.readouterr().err


def test_an_unreadable_subfolder_is_an_error_row_not_a_silent_gap(tmp_path, monkeypatch):
    import imagevars.io.sources as sources

    _images(tmp_path / "p", {"a.png": 5})
    _images(tmp_path / "p" / "locked", {"b.png": 6})
    real = os.scandir

    def scandir(path):  # the tests run as root, who may read anything: the OS's refusal, simulated
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(sources.os, "scandir", scandir)
    monkeypatch.setattr("imagevars.io.decode.os.access", lambda path, mode: not str(path).endswith("locked"))
    table = imagevars.run([_Width()], tmp_path / "p", **OPTS).to_pandas()
    assert table["source"].tolist() == [str(tmp_path / "p" / "a.png"), str(tmp_path / "p" / "locked")]
    assert "cannot be read (permission denied)" in table["error"].iloc[1]


def test_symlinks_one_rule_for_folders_and_globs_loops_included(tmp_path):
    root = tmp_path / "p"
    _images(root / "real", {f"{i}.png": 10 + i for i in range(3)})
    (root / "real" / "loop").symlink_to(root)  # a link back up the tree
    (root / "linked").symlink_to(root / "real")  # a second way to the same folder
    _images(tmp_path / "elsewhere", {"x.png": 50})
    (root / "outside").symlink_to(tmp_path / "elsewhere")  # a linked folder: was silently dropped
    folder = imagevars.run([_Width()], root, **OPTS).to_pandas()
    assert sorted(folder["w_width"]) == [10, 11, 12, 50]  # each real file once
    globbed = imagevars.run([_Width()], str(root / "**" / "*.png"), **OPTS).to_pandas()
    assert sorted(globbed["w_width"]) == [10, 11, 12, 50]  # was 410 rows for 10 files


def test_only_regular_files_are_read_and_under_a_size_cap(tmp_path):
    fifo = tmp_path / "x.jpg"
    os.mkfifo(fifo)  # opening it would wait for a writer for ever
    huge = tmp_path / "huge.tif"
    with open(huge, "wb") as f:  # sparse: 2 GiB announced, no disk used
        f.truncate(2 << 30)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{fifo}\n/dev/zero\n{huge}\n")
    start = time.monotonic()
    table = imagevars.run([_Width()], listing, **OPTS).to_pandas()
    assert time.monotonic() - start < 10
    assert "not a regular file (a FIFO, device or socket)" in table["error"].iloc[0]
    assert "not a regular file" in table["error"].iloc[1]
    assert "is over the size cap of 1,073,741,824 for one image" in table["error"].iloc[2]


def _cli(*args):
    return [sys.executable, "-m", "imagevars.cli", "run", *map(str, args), "-q", "--workers", "0"]


def test_killed_after_the_output_was_written_but_before_the_parts_were_removed(tmp_path):
    src, out = tmp_path / "p", tmp_path / "v.parquet"
    _images(src, {f"{i:02d}.png": 10 + i for i in range(6)})
    dies = (
        "import os, signal, sys, shutil; import imagevars.pipeline.sink as s; "
        "s.shutil = type('S', (), {'rmtree': staticmethod(lambda p: os.kill(os.getpid(), signal.SIGKILL))}); "
        "from imagevars.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            dies,
            "run",
            "quality",
            str(src),
            "-q",
            "--workers",
            "0",
            "--chunk-rows",
            "2",
            "-o",
            str(out),
        ],
        capture_output=True,
    )
    assert proc.returncode == -9 and out.exists() and out.with_name(out.name + ".parts").exists()
    subprocess.run(_cli("quality", src, "--chunk-rows", "2", "-o", out), check=True)
    subprocess.run(_cli("quality", src, "-o", tmp_path / "clean.parquet"), check=True)
    assert pq.read_table(out).equals(pq.read_table(tmp_path / "clean.parquet"))
    assert not out.with_name(out.name + ".parts").exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 96 KiB tmpfs: a real full disk (mounting needs root, which these machines give)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs is not allowed here; test_errors.py covers a full disk by its error code")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_stops_with_one_line_and_the_rerun_after_freeing_space_completes(tmp_path, small_disk):
    src = tmp_path / "p"
    rng = np.random.default_rng(0)
    src.mkdir()
    for i in range(60):
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(src / f"{i:02d}.png")
    out = small_disk / "v.parquet"
    cmd = _cli("quality", src, "--chunk-rows", "2", "--batch-size", "2", "-o", out)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1 and "the disk is full" in err[0], proc.stderr[-2000:]
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)  # space freed
    subprocess.run(cmd, check=True)
    subprocess.run(_cli("quality", src, "-o", tmp_path / "clean.parquet"), check=True)
    assert pq.read_table(out).equals(pq.read_table(tmp_path / "clean.parquet"))


def test_an_output_in_a_read_only_folder_is_one_line(tmp_path):
    """Root may write anywhere, but not on a read-only file system: a real refusal from the OS."""
    disk = tmp_path / "ro"
    disk.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(disk)], capture_output=True
    ).returncode:
        pytest.skip("mounting a tmpfs is not allowed here; test_errors.py covers permission errors by their code")
    try:
        _images(tmp_path / "p", {"a.png": 5})
        proc = subprocess.run(_cli("quality", tmp_path / "p", "-o", disk / "v.parquet"), capture_output=True, text=True)
        err = proc.stderr.strip().splitlines()
        assert (
            proc.returncode == 2 and len(err) == 1 and "permission denied: write to a folder you may write to" in err[0]
        )
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_only_a_change_of_weights_is_measured_again_any_other_change_is_refused(tmp_path):
    from imagevars.pipeline.sink import PartsSink

    def config(sha, commit, classes):
        hub = {"hf_repo": "o/m", "commit": commit, "weights_sha256": sha, "classes": classes}
        return {"version": "0.2.0", "tasks": [{"name": "detect", "model": "hf:o/m", "weights_sha256": sha, "hub": hub}]}

    def open_sink(cfg, **options):  # as a run opens its output; a refusal lets go of the output's lock itself
        PartsSink(out, cfg, **options).release()

    out = tmp_path / "v.parquet"
    parts = out.with_name("v.parquet.parts")
    parts.mkdir()
    (parts / "config.json").write_text(json.dumps(config("a" * 64, "c1", ["cat"])))
    (parts / "part-000000.parquet").write_bytes(b"rows of the old weights")
    with pytest.raises(ValueError, match="holds a run with other settings"):  # other classes: not weights
        open_sink(config("b" * 64, "c2", ["dog"]))
    with pytest.raises(ValueError, match=r"hf:o/m made with other weights \(sha256 aaaaaaaaaaaa…, now bbbbbbbbbbbb…\)"):
        open_sink(config("b" * 64, "c2", ["cat"]), resume="strict")
    assert (parts / "part-000000.parquet").exists()
    with pytest.warns(UserWarning, match="measuring every row again with these weights"):
        open_sink(config("b" * 64, "c2", ["cat"]))
    assert not (parts / "part-000000.parquet").exists()
    assert json.loads((parts / "config.json").read_text()) == config("b" * 64, "c2", ["cat"])
