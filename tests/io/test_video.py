"""Video: frames by time, count and keyframe with exact timestamps, rotation, segments and resume,
every image task on frames, and broken videos as error rows."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

pytest.importorskip("av")

import imagevars  # noqa: E402
from imagevars.io.video import Sampling, frames, probe  # noqa: E402
from imagevars.tasks import Task  # noqa: E402
from videos import make_video, read_number, set_rotation  # noqa: E402


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("v") / "clip.mp4"
    make_video(path, seconds=12, fps=25, gop=50)
    return path


def test_sampling_parse():
    assert Sampling.parse("1s") == Sampling("seconds", 1.0) and str(Sampling.parse("0.25s")) == "0.25s"
    assert Sampling.parse("10f") == Sampling("frames", 10.0) and Sampling.parse("key").kind == "key"
    for bad in ("0s", "1.5f", "fast", "-1s"):
        with pytest.raises(ValueError, match="cannot read the sampling"):
            Sampling.parse(bad)


@pytest.mark.parametrize(
    "every,expect",
    [
        ("1s", list(range(0, 300, 25))),
        ("0.5s", [int(np.ceil(k * 12.5)) for k in range(24)]),
        ("7f", list(range(0, 300, 7))),
        ("key", list(range(0, 300, 50))),
    ],
)
def test_frames_are_the_right_ones_with_exact_times(clip, every, expect):
    got = list(frames(str(clip), every))
    shown = [read_number(rgb) for _, _, rgb in got]
    assert shown == expect  # the pixels are those frames
    assert [f for f, _, _ in got] == expect
    assert [t for _, t, _ in got] == pytest.approx([i / 25 for i in expect], abs=1e-9)


def test_seeking_gives_the_same_frames_as_decoding_everything(clip):
    seek = [(f, t) for f, t, _ in frames(str(clip), "3s", seek_s=1.0)]
    no_seek = [(f, t) for f, t, _ in frames(str(clip), "3s", seek_s=1e9)]
    assert seek == no_seek == [(0, 0.0), (75, 3.0), (150, 6.0), (225, 9.0)]


def test_skipping_b_frames_leaves_sampled_frames_exact(tmp_path):
    """With B-frames (x264's default pyramid), frames between samples are dropped undecoded:
    the sampled frames must still be pixel-identical to a full decode."""
    import av

    path = tmp_path / "bframes.mp4"
    make_video(path, seconds=8, fps=25, gop=100, options={"preset": "medium", "bframes": "3", "crf": "30"})
    with av.open(str(path)) as c:
        full = {round(float(f.pts * f.time_base), 4): f.to_ndarray(format="rgb24") for f in c.decode(video=0)}
    for every, n in (("1s", 8), ("0.36s", 23)):
        got = list(frames(str(path), every))
        assert len(got) == n
        for _, t, rgb in got:
            assert np.array_equal(full[round(t, 4)], rgb), (every, t)


@pytest.mark.parametrize("fps, every", [(25, "0.2s"), (30, "0.3s"), (10, "0.3s")])
def test_with_b_frames_each_sample_is_the_first_frame_at_or_after_its_target(tmp_path, fps, every):
    """Frames between samples are skipped undecoded, but never the wanted one (it was, 3-4 of 40 times)."""
    import math

    path = tmp_path / "bframes.mp4"
    make_video(path, seconds=10, fps=fps, gop=100, options={"preset": "medium", "bframes": "3", "crf": "30"})
    step = float(every[:-1])
    got = list(frames(str(path), every))
    assert len(got) == math.ceil(10 / step - 1e-9)
    for k, (_, t, rgb) in enumerate(got):
        assert read_number(rgb) == math.ceil(k * step * fps - 1e-6), (k, t)


def test_variable_frame_rate_times_are_the_frames_own(tmp_path):
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.choice([0.02, 0.05, 0.11], 120)).round(3).tolist()
    times = [0.0] + times
    make_video(tmp_path / "vfr.mp4", times=times, fps=25)
    got = list(frames(str(tmp_path / "vfr.mp4"), "0.5s"))
    for _, t, rgb in got:
        i = read_number(rgb)
        assert t == pytest.approx(times[i], abs=1e-6)  # time_s is the shown frame's own time
    targets = [k * 0.5 for k in range(len(got))]
    for target, (_, _t, rgb) in zip(targets, got):  # ... the first frame at or after each target
        i = read_number(rgb)
        assert times[i] >= target - 1e-9 and (i == 0 or times[i - 1] < target)


def test_rotation_is_applied(tmp_path):
    path = tmp_path / "portrait.mp4"
    make_video(path, seconds=1, fps=10, size=(320, 192))
    set_rotation(path, 90)
    info = probe(str(path))
    assert (info.width, info.height, info.rotation) == (192, 320, 90)
    f, t, rgb = next(frames(str(path), "1s"))
    assert rgb.shape == (320, 192, 3)
    assert read_number(np.rot90(rgb, 1)) == 0  # turned back, the frame reads as written
    assert read_number(np.rot90(list(frames(str(path), "0.5s"))[1][2], 1)) == 5


def test_probe(clip):
    info = probe(str(clip))
    assert (info.fps, info.width, info.height, info.codec, info.frames) == (25.0, 320, 192, "h264", 300)
    assert info.duration_s == pytest.approx(12.0)


def test_pipeline_rows_keyed_by_frame_and_time(clip, tmp_path):
    from PIL import Image

    Image.new("RGB", (64, 48), "red").save(tmp_path / "still.png")
    (tmp_path / "clip.mp4").write_bytes(clip.read_bytes())
    r = imagevars.run(["quality"], tmp_path, every="2s", workers=0, progress=False)
    df = r.to_pandas()
    video = df[df["source"].str.endswith("clip.mp4")]
    assert video["frame"].tolist() == list(range(0, 300, 50)) and video["time_s"].tolist() == [0, 2, 4, 6, 8, 10]
    assert video["video_fps"].eq(25).all() and video["video_codec"].eq("h264").all()
    assert video["quality_width"].eq(320).all()
    still = df[df["source"].str.endswith("still.png")]
    assert still["frame"].tolist() == [0] and still["video_fps"].isna().all()
    assert r.provenance["video"] == {"every": "2s", "segment_s": 30.0}


def test_segments_give_the_same_rows_as_one_pass(clip, tmp_path):
    a = imagevars.run(["quality"], clip, tmp_path / "a.parquet", every="0.7s", segment_s=1.5, workers=0, progress=False)
    b = imagevars.run(["quality"], clip, tmp_path / "b.parquet", every="0.7s", segment_s=100, workers=2, progress=False)
    ta, tb = pq.read_table(tmp_path / "a.parquet"), pq.read_table(tmp_path / "b.parquet")
    assert ta.equals(tb) and len(a) == len(b) == 18
    assert ta.column("time_s").to_pylist()[:3] == pytest.approx([0.0, 0.72, 1.4])


def _mean(decoded):
    return float(decoded.rgb.mean())


class _Mean(Task):
    name = "mean"

    def __init__(self, interrupt_at=None):
        self.calls, self.interrupt_at = 0, interrupt_at

    def preprocessor(self):
        return _mean

    def fields(self):
        import pyarrow as pa

        return [pa.field("mean_value", pa.float64())]

    def __call__(self, batch):
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        return {"mean_value": batch}


def test_resume_mid_video(clip, tmp_path):
    out = tmp_path / "frames.parquet"
    opts = dict(every="0.5s", segment_s=2, workers=0, progress=False, batch_size=4, chunk_rows=4)
    with pytest.raises(KeyboardInterrupt):
        imagevars.run([_Mean(interrupt_at=3)], clip, out, **opts)
    resumed = imagevars.run([_Mean()], clip, out, **opts)
    clean = imagevars.run([_Mean()], clip, tmp_path / "clean.parquet", **opts)
    assert resumed.provenance["counts"]["skipped"] > 0
    assert pq.read_table(out).equals(pq.read_table(tmp_path / "clean.parquet")) and len(clean) == 24


def test_broken_videos_are_error_rows_and_the_run_goes_on(clip, tmp_path):
    import av

    folder = tmp_path / "v"
    folder.mkdir()
    (folder / "a_good.mp4").write_bytes(clip.read_bytes())
    (folder / "b_garbage.mp4").write_bytes(b"not a video at all")
    data = clip.read_bytes()  # its index is at the end: cut in half, nothing is readable
    (folder / "c_truncated.mp4").write_bytes(data[: len(data) // 2])
    make_video(tmp_path / "full.mkv", seconds=12, fps=25, gop=50)
    mkv = (tmp_path / "full.mkv").read_bytes()  # Matroska streams: cut in half, the first half plays
    (folder / "f_truncated.mkv").write_bytes(mkv[: len(mkv) // 2])
    with av.open(str(folder / "d_audio_only.mp4"), "w") as c:  # a file with no video stream
        s = c.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 8000
        for p in [*s.encode(frame), *s.encode()]:
            c.mux(p)
    make_video(folder / "e_empty.mp4", times=[])
    r = imagevars.run(["quality"], folder, every="1s", workers=0, progress=False)
    df = r.to_pandas()
    name = df["source"].str.rsplit("/", n=1).str[-1]
    assert (name == "a_good.mp4").sum() == 12 and df[name == "a_good.mp4"]["error"].isna().all()
    for bad, reason in (
        ("b_garbage.mp4", "not a video"),
        ("c_truncated.mp4", "not a video"),
        ("d_audio_only.mp4", "no video stream"),
        ("e_empty.mp4", ""),
    ):
        rows = df[name == bad]
        assert len(rows) == 1 and rows["error"].notna().all(), bad
        assert reason in rows["error"].iloc[0] and bad in rows["error"].iloc[0]
    cut = df[name == "f_truncated.mkv"]
    assert cut["error"].isna().sum() >= 3  # what could be decoded is kept ...
    assert cut["error"].notna().sum() == 1 and "truncated?" in cut["error"].dropna().iloc[0]  # ... and the cut is said


def test_a_video_without_sampling_is_an_error_row(clip):
    r = imagevars.run(["quality"], [str(clip)], workers=0, progress=False)
    assert "every='1s'" in r.to_pandas()["error"].iloc[0]


def test_cli_every(clip, tmp_path, capsys):
    from imagevars.cli import main

    out = tmp_path / "frames.csv"
    assert main(["run", "quality", str(clip), "--every", "4s", "-o", str(out), "-q", "--workers", "0"]) == 0
    import pandas as pd

    df = pd.read_csv(out)
    assert df["time_s"].tolist() == [0.0, 4.0, 8.0] and df["frame"].tolist() == [0, 100, 200]
