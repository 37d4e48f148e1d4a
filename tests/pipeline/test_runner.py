"""The measurement pipeline: sources, decoding, errors as rows, outputs, provenance, resume."""

import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from PIL import Image

import imagevars
from imagevars.io.sources import resolve
from imagevars.io.table import Results
from imagevars.tasks import Task


def _photos(folder, n=6):
    import skimage.data as data

    folder.mkdir(parents=True, exist_ok=True)
    names = ["astronaut", "chelsea", "coffee", "rocket", "camera", "page"][:n]
    for name in names:
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.jpg", quality=90)
    return [str(folder / f"{name}.jpg") for name in names]


def _png_header_only(path, w, h):
    """A PNG whose header claims w x h pixels: a decompression bomb in miniature."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory):
    """The issue's folder of troublemakers, next to two good photos."""
    import skimage.data as data

    d = tmp_path_factory.mktemp("bad")
    astro = data.astronaut()
    Image.fromarray(astro).save(d / "a_good.jpg", quality=90)
    (d / "b_zero.jpg").write_bytes(b"")
    good = (d / "a_good.jpg").read_bytes()
    (d / "c_truncated.jpg").write_bytes(good[: len(good) // 3])
    (d / "d_text.jpg").write_text("not an image at all")
    Image.fromarray((np.arange(64 * 48).reshape(48, 64) * 20).astype(np.uint16)).save(d / "e_16bit.png")
    Image.fromarray(astro).convert("CMYK").save(d / "f_cmyk.jpg")
    Image.fromarray(astro).convert("P").save(d / "g_palette.gif")
    img = Image.fromarray(astro[:, :400])  # 400 wide, 512 high
    exif = img.getexif()
    exif[0x0112] = 6  # displayed rotated: 512 wide, 400 high
    img.save(d / "h_rotated.jpg", exif=exif)
    _png_header_only(d / "i_bomb.png", 20000, 20000)
    Image.fromarray(astro).convert("RGBA").save(d / "j_rgba.png")
    return d


def test_sources_folder_glob_list_manifest(tmp_path):
    paths = _photos(tmp_path / "p" / "sub", 2) + _photos(tmp_path / "p", 1)
    (tmp_path / "p" / "notes.txt").write_text("x")
    folder = [it.source for it in resolve(tmp_path / "p")]
    assert folder == sorted(folder) and len(folder) == 3 and all(f.endswith(".jpg") for f in folder)
    assert [it.source for it in resolve(str(tmp_path / "p" / "**" / "*.jpg"))] == sorted(paths)
    (tmp_path / "list.txt").write_text("# photos\n" + "\n".join(paths) + "\n\n")
    assert [it.source for it in resolve(tmp_path / "list.txt")] == paths
    pd.DataFrame({"firm": [7, 8, 9], "image_url": paths, "date": ["2020-01-01"] * 3}).to_csv(
        tmp_path / "m.csv", index=False
    )
    src = resolve(tmp_path / "m.csv", keep=["firm"])
    assert [(it.source, it.extra) for it in src] == [(p, (f,)) for p, f in zip(paths, [7, 8, 9])]
    with pytest.raises(ValueError, match="has no column\\(s\\) listing_id to keep"):
        resolve(tmp_path / "m.csv", keep=["listing_id"])
    with pytest.raises(FileNotFoundError, match="does not exist; pass a folder"):
        resolve(tmp_path / "nope")


def test_run_in_memory_keys_columns_provenance(tmp_path):
    paths = _photos(tmp_path)
    res = imagevars.run(["quality"], tmp_path, workers=0, progress=False)
    assert isinstance(res, Results) and len(res) == 6 and res.n_errors == 0
    assert res.columns[:4] == ["source", "frame", "time_s", "error"]
    assert res.columns[4] == "quality_width" and all(c.startswith("quality_") for c in res.columns[4:])
    df = res.to_pandas()
    assert df["source"].tolist() == sorted(paths) and (df["frame"] == 0).all() and (df["time_s"] == 0).all()
    astro = df.set_index("source").loc[str(tmp_path / "astronaut.jpg")]
    assert (astro["quality_width"], astro["quality_height"]) == (512, 512)
    assert res.provenance["tasks"][0] == {
        "name": "quality",
        "params": {"size": 512, "colors": 3},
        "model": None,
        "weights_sha256": None,
    }
    assert res.provenance["version"] == imagevars.__version__ and res.provenance["counts"]["measured"] == 6


def test_bad_inputs_become_error_rows(bad_folder):
    res = imagevars.run(["quality"], bad_folder, workers=2, progress=False)
    df = res.to_pandas().assign(name=lambda d: d["source"].map(os.path.basename)).set_index("name")
    assert len(df) == 10  # nothing lost
    errors = df["error"].dropna()
    assert sorted(errors.index) == ["b_zero.jpg", "c_truncated.jpg", "d_text.jpg", "i_bomb.png"]
    assert "empty file" in errors["b_zero.jpg"]
    assert "not an image" in errors["d_text.jpg"]
    assert "400000000 pixels" in errors["i_bomb.png"] and "decompression bomb" in errors["i_bomb.png"]
    assert "truncated" in errors["c_truncated.jpg"].lower() or "broken" in errors["c_truncated.jpg"].lower()
    assert df.loc["b_zero.jpg", "quality_brightness"] is pd.NA or pd.isna(df.loc["b_zero.jpg", "quality_brightness"])
    assert (df.loc["h_rotated.jpg", "quality_width"], df.loc["h_rotated.jpg", "quality_height"]) == (512, 400)
    assert df.loc["e_16bit.png", "quality_saturation"] == 0 and df.loc["e_16bit.png", "quality_brightness"] > 0.05
    # CMYK, palette, RGBA decode to the same picture as the original, near enough
    for name in ("f_cmyk.jpg", "g_palette.gif", "j_rgba.png"):
        assert df.loc[name, "quality_brightness"] == pytest.approx(df.loc["a_good.jpg", "quality_brightness"], abs=0.03)


def test_missing_file_and_unreachable_url_are_rows(tmp_path):
    paths = _photos(tmp_path, 1)
    pd.DataFrame({"path": [paths[0], str(tmp_path / "gone.jpg"), "http://127.0.0.1:9/x.jpg"], "id": [1, 2, 3]}).to_csv(
        tmp_path / "m.csv", index=False
    )
    res = imagevars.run(
        ["quality"],
        tmp_path / "m.csv",
        keep=["id"],
        workers=0,
        progress=False,
        fetch_options={"retries": 0, "timeout": 2},
    )
    df = res.to_pandas()
    assert df["id"].tolist() == [1, 2, 3] and df["error"].isna().tolist() == [True, False, False]
    assert "file not found" in df["error"][1] and df["error"][2].startswith("http://127.0.0.1:9/x.jpg:")


def test_url_download_with_cache(tmp_path, serve, isolated_cache):
    _photos(tmp_path / "srv", 1)
    url = serve(tmp_path / "srv") + "astronaut.jpg"
    first = imagevars.run(["quality"], [url], workers=0, progress=False).to_pandas()
    (tmp_path / "srv" / "astronaut.jpg").unlink()  # from now on only the cache has it
    again = imagevars.run(["quality"], [url], workers=0, progress=False).to_pandas()
    assert first["error"].isna().all() and again["error"].isna().all()
    assert first["quality_sharpness"][0] == again["quality_sharpness"][0] and first["source"][0] == url
    missing = imagevars.run(
        ["quality"], [url.replace("astronaut", "nobody")], workers=0, progress=False, fetch_options={"cache": False}
    ).to_pandas()
    assert "HTTP 404" in missing["error"][0]


def test_strict_stops_at_first_error(bad_folder):
    from imagevars.pipeline.runner import RunError

    with pytest.raises(RunError, match="b_zero.jpg: empty file"):
        imagevars.run(["quality"], bad_folder, workers=0, progress=False, strict=True)


def test_outputs_parquet_csv_stata_with_provenance(tmp_path):
    _photos(tmp_path / "p", 3)
    for suffix in ("parquet", "csv", "dta"):
        out = tmp_path / f"vars.{suffix}"
        res = imagevars.run(["quality"], tmp_path / "p", out, workers=0, progress=False)
        assert out.exists() and not (tmp_path / f"vars.{suffix}.parts").exists()
        if suffix == "parquet":
            back = Results.read(out)
            assert back.provenance["tasks"][0]["name"] == "quality" and "created" in back.provenance
            assert back.provenance["finished"] >= back.provenance["created"] and back.provenance["seconds"] >= 0
            assert back.table.equals(res.table)
        elif suffix == "csv":
            df = pd.read_csv(out)
            assert len(df) == 3 and json.loads((tmp_path / "vars.csv.provenance.json").read_text())["version"]
        else:
            df = pd.read_stata(out)
            assert len(df) == 3 and df["quality_width"].tolist() == res.to_pandas()["quality_width"].tolist()


def test_empty_input_gives_empty_table_with_schema(tmp_path):
    (tmp_path / "empty").mkdir()
    res = imagevars.run(["quality"], tmp_path / "empty", tmp_path / "e.parquet", workers=0, progress=False)
    assert len(res) == 0 and "quality_sharpness" in res.columns
    assert pq.read_schema(tmp_path / "e.parquet").field("quality_width").type == "int64"


def test_resume_after_sigkill_gives_exactly_the_uninterrupted_rows(tmp_path):
    photos = tmp_path / "many"
    photos.mkdir()
    rng = np.random.default_rng(0)
    base = np.asarray(Image.open(io.BytesIO(_jpeg_bytes())))
    for i in range(240):
        crop = base[rng.integers(0, 200) :][:300, rng.integers(0, 200) :][:, :300]
        Image.fromarray(crop).save(photos / f"{i:04d}.jpg", quality=85)
    cmd = [
        sys.executable,
        "-m",
        "imagevars.cli",
        "run",
        "quality",
        str(photos),
        "-q",
        "--workers",
        "1",
        "--batch-size",
        "8",
        "--chunk-rows",
        "16",
    ]
    out = tmp_path / "vars.parquet"
    proc = subprocess.Popen([*cmd, "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parts = tmp_path / "vars.parquet.parts"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(parts.glob("part-*.parquet"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_parts = len(list(parts.glob("part-*.parquet")))
    assert n_parts >= 3 and not out.exists(), "the run should have been killed mid-way"
    # its decode worker notices and exits: nothing is left running
    deadline = time.time() + 10
    while time.time() < deadline and _processes_mentioning(str(out)):
        time.sleep(0.2)
    assert not _processes_mentioning(str(out))
    subprocess.run([*cmd, "-o", str(out)], check=True, capture_output=True)
    subprocess.run([*cmd, "-o", str(tmp_path / "clean.parquet")], check=True, capture_output=True)
    resumed, clean = pq.read_table(out), pq.read_table(tmp_path / "clean.parquet")
    assert resumed.num_rows == clean.num_rows == 240
    assert resumed.column("source").to_pylist() == sorted(str(p) for p in photos.iterdir())
    assert resumed.equals(clean)  # same rows, same order, same values: none lost, none twice
    meta = json.loads(resumed.schema.metadata[b"imagevars"])
    assert meta["counts"]["skipped"] >= 16 * 3 and meta["counts"]["measured"] == 240 - meta["counts"]["skipped"]


def test_ctrl_c_keeps_what_was_measured_and_the_rerun_completes(tmp_path):
    """Synchronised on events, never on a timer: the run's 201st input is a URL that a loopback server holds,
    so the run cannot finish before the interrupt, however busy the machine. The test waits for the request
    to arrive and for the progress bar to show what came before it, then sends SIGINT: the run stops at once
    (its workers are stopped, the held read is not waited for), keeps its rows and says how to resume."""
    import re
    import threading

    from held import held_image  # tests/helpers

    photos = tmp_path / "p"
    photos.mkdir()
    jpeg = _jpeg_bytes()
    base = np.asarray(Image.open(io.BytesIO(jpeg)))
    for i in range(400):
        Image.fromarray(np.roll(base, i, axis=1)).save(photos / f"{i:04d}.jpg", quality=85)
    with held_image(jpeg) as (url, arrived, release):
        inputs = [str(p) for p in sorted(photos.iterdir())]
        inputs.insert(200, url)
        (tmp_path / "inputs.txt").write_text("\n".join(inputs) + "\n")
        cmd = [
            sys.executable,
            "-m",
            "imagevars.cli",
            "run",
            "quality",
            str(tmp_path / "inputs.txt"),
            "--workers",
            "1",
            "--batch-size",
            "4",
            "--chunk-rows",
            "1000",
            "--timeout",
            "3600",
            "--deadline",
            "3600",
            "-o",
            str(tmp_path / "v.parquet"),
        ]
        # Ctrl-C's default action in the run, even when these tests themselves run with SIGINT ignored (started
        # in the background by a non-interactive shell, as `cmd &` does): Python then installs no handler of its own
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        err: list[str] = []
        seen = threading.Condition()

        def read():
            for ch in iter(lambda: proc.stderr.read(1), ""):
                with seen:
                    err.append(ch)
                    seen.notify_all()
            with seen:
                seen.notify_all()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert arrived.wait(timeout=600), "the run never reached the held input"
        with seen:  # the bar shows the rows before the held input (they are done: the worker is past them)
            assert seen.wait_for(
                lambda: (
                    max(map(int, re.findall(r"\|\s*(\d+)/401", "".join(err))), default=0) >= 10
                    or proc.poll() is not None
                ),
                timeout=600,
            )
        assert proc.poll() is None, "".join(err)[-2000:]
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=600)  # the held request is still held: the run must not wait for it
        reader.join(timeout=60)
        text = "".join(err)
        assert proc.returncode == 130, text[-2000:]
        assert "run the same command again to resume" in text
        saved = sum(pq.read_metadata(p).num_rows for p in (tmp_path / "v.parquet.parts").glob("part-*.parquet"))
        assert 10 <= saved <= 200  # the buffered rows were flushed although no chunk of 1,000 was full
        release.set()
        subprocess.run([*cmd, "-q"], check=True, capture_output=True)
    table = pq.read_table(tmp_path / "v.parquet")
    assert table.num_rows == 401 and table.column("source").to_pylist() == inputs
    assert table.column("error").null_count == 401


def test_parts_from_other_settings_are_refused(tmp_path):
    _photos(tmp_path / "p", 1)
    parts = tmp_path / "v.parquet.parts"
    parts.mkdir()
    (parts / "config.json").write_text(json.dumps({"version": "0", "tasks": [], "input": "x", "keep": []}))
    with pytest.raises(ValueError, match="holds a run with other settings"):
        imagevars.run(["quality"], tmp_path / "p", tmp_path / "v.parquet", workers=0, progress=False)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read().decode(errors="replace")
                with open(f"/proc/{entry}/stat") as f:
                    zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
            except OSError:
                continue
            if text in cmdline and not zombie:
                found.append(int(entry))
    return found


def _jpeg_bytes():
    import skimage.data as data

    buf = io.BytesIO()
    Image.fromarray(data.coffee()).save(buf, "JPEG")
    return buf.getvalue()


def test_cli_run_with_manifest_keep_and_summary(tmp_path):
    paths = _photos(tmp_path, 2)
    pd.DataFrame(
        {
            "image_url": paths + [str(tmp_path / "missing.jpg")],
            "listing_id": ["a", "b", "c"],
            "date": ["2024-01-02"] * 3,
        }
    ).to_csv(tmp_path / "listings.csv", index=False)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "imagevars.cli",
            "run",
            "quality",
            str(tmp_path / "listings.csv"),
            "--path-column",
            "image_url",
            "--keep",
            "listing_id,date",
            "-o",
            str(tmp_path / "vars.dta"),
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "3 rows: 2 measured now, 0 resumed from an earlier run, 1 with errors" in out.stdout
    assert "missing.jpg: file not found" in out.stdout
    df = pd.read_stata(tmp_path / "vars.dta")
    assert df["listing_id"].tolist() == ["a", "b", "c"]
    assert df["date"].tolist() == [pd.Timestamp("2024-01-02")] * 3  # a date in the manifest is a Stata date


def test_output_is_streamed_from_many_parts_and_results_are_file_backed(bad_folder, tmp_path):
    out = tmp_path / "v.parquet"
    res = imagevars.run(["quality"], bad_folder, out, workers=0, progress=False, chunk_rows=3, batch_size=2)
    assert res._table is None and len(res) == 10 and res.n_errors == 4  # nothing loaded to say so
    assert sorted(res.errors()["source"].map(os.path.basename)) == [
        "b_zero.jpg",
        "c_truncated.jpg",
        "d_text.jpg",
        "i_bomb.png",
    ]
    memory = imagevars.run(["quality"], bad_folder, workers=0, progress=False)
    assert res.table.equals(memory.table)
    assert pq.ParquetFile(out).metadata.num_row_groups == 3  # parts of 4, 4 and 2 rows, written one by one
    csv = imagevars.run(["quality"], bad_folder, tmp_path / "v.csv", workers=0, progress=False, chunk_rows=3)
    assert csv.to_pandas()["source"].tolist() == memory.to_pandas()["source"].tolist()


_THREADS_SCRIPT = """
import sys, numpy as np, cv2, imagevars
from imagevars.tasks import Task

def threads():
    return int(next(l for l in open("/proc/self/status") if l.startswith("Threads:")).split()[1])

def opencv_threads(decoded):  # threads this worker gains by a large OpenCV filter
    before = threads()
    cv2.GaussianBlur(np.ones((2000, 2000), np.float32), (9, 9), 1.0)
    return threads() - before

class Threads(Task):
    name = "t"
    def preprocessor(self):
        return opencv_threads
    def fields(self):
        import pyarrow as pa
        return [pa.field("t_added", pa.int64())]
    def __call__(self, batch):
        return {"t_added": batch}

if sys.argv[1] == "parent-first":  # OpenCV's thread pool running in the parent before the fork
    cv2.setNumThreads(2)
    cv2.GaussianBlur(np.ones((2000, 2000), np.float32), (9, 9), 1.0)
print(imagevars.run([Threads()], sys.argv[2:], workers=2, progress=False).to_pandas()["t_added"].tolist())
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="counts threads through Linux's /proc")
@pytest.mark.parametrize("mode", ["fresh", "parent-first"])
def test_workers_run_opencv_on_one_thread(tmp_path, mode):
    paths = []
    for i in range(4):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.new("RGB", (8, 8)).save(paths[-1])
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_FOR_THREADS_NUM"}
    out = subprocess.run(
        [sys.executable, "-c", _THREADS_SCRIPT, mode, *paths], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[0, 0, 0, 0]"


# ---------------------------------------------------------------------------------- long format
def _width(decoded):
    return decoded.width


class _Boxes(Task):
    """A long-format task: width % 4 objects per image; interrupts itself once if asked."""

    name, long = "boxes", True

    def __init__(self, interrupt_at: int | None = None):
        self.calls, self.interrupt_at = 0, interrupt_at

    def preprocessor(self):
        return _width

    def fields(self):
        import pyarrow as pa

        return [pa.field("boxes_k", pa.int64()), pa.field("boxes_w", pa.int64())]

    def __call__(self, batch):
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        return {"boxes_k": [list(range(w % 4)) for w in batch], "boxes_w": [[w] * (w % 4) for w in batch]}


def test_long_format_rows_and_resume_after_interrupt(tmp_path):
    photos = tmp_path / "p"
    photos.mkdir()
    for i in range(30):
        Image.new("RGB", (40 + i, 20)).save(photos / f"{i:03d}.png")
    (photos / "999.png").write_bytes(b"broken")
    out = tmp_path / "long.parquet"
    with pytest.raises(KeyboardInterrupt):
        imagevars.run([_Boxes(interrupt_at=3)], photos, out, workers=0, progress=False, batch_size=4, chunk_rows=3)
    assert list((tmp_path / "long.parquet.parts").glob("part-*.parquet")), "rows so far should be saved"
    resumed = imagevars.run([_Boxes()], photos, out, workers=0, progress=False, batch_size=4, chunk_rows=3)
    imagevars.run([_Boxes()], photos, tmp_path / "clean.parquet", workers=0, progress=False, batch_size=5)
    assert resumed.provenance["counts"]["skipped"] > 0
    a, b = pq.read_table(out), pq.read_table(tmp_path / "clean.parquet")
    assert a.equals(b)  # nothing lost or duplicated, objects in order
    df = a.to_pandas()
    assert df.columns[:5].tolist() == ["source", "frame", "time_s", "object", "error"]
    # one row per object; an image with none keeps a single row with `object` null; errors keep theirs
    for i in range(30):
        rows = df[df["source"].str.endswith(f"{i:03d}.png")]
        k = (40 + i) % 4
        assert len(rows) == max(1, k)
        if k:
            assert rows["object"].tolist() == list(range(k)) and rows["boxes_k"].tolist() == list(range(k))
        else:
            assert rows["object"].isna().all() and rows["boxes_k"].isna().all()
    broken = df[df["source"].str.endswith("999.png")]
    assert len(broken) == 1 and broken["error"].notna().all()


def test_one_long_task_per_run(tmp_path):
    with pytest.raises(ValueError, match="one long-format task"):
        imagevars.run([_Boxes(), type("B2", (_Boxes,), {"name": "b2"})()], tmp_path, progress=False)
