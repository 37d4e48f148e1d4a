"""Every CLI failure is one line that says what, on which input, and what to do; --debug shows the traceback."""

from __future__ import annotations

import errno

import pytest
from PIL import Image

from imagevars.cli import main


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    Image.new("RGB", (20, 10)).save(folder / "a.png")
    return folder


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def test_an_output_below_a_file(photos, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x")
    assert (
        main(["run", "quality", str(photos), "-q", "--workers", "0", "-o", str(tmp_path / "notes.txt" / "v.parquet")])
        == 2
    )
    line = _one_line(capsys)
    assert line.startswith("imagevars run: error:") and "is a file, not a folder" in line


def test_a_full_disk(photos, tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "v.parquet"))

    monkeypatch.setattr("pyarrow.parquet.write_table", full)
    assert main(["run", "quality", str(photos), "-q", "--workers", "0", "-o", str(tmp_path / "v.parquet")]) == 2
    assert "the disk is full" in _one_line(capsys)


@pytest.mark.parametrize(
    "text, says",
    [
        ("constructs: {luxury: [a, b\n", "is not valid YAML"),
        ("!!python/object/apply:os.system ['touch {pwned}']\n", "is not valid YAML"),
        ("- just\n- a list\n", "defines no constructs"),
        ("constructs: [a, b]\n", "`constructs` must map names to prompts"),
        ("constructs: {luxury: 3}\n", "prompts are a list of texts"),
    ],
)
def test_a_broken_or_hostile_prompt_file(photos, tmp_path, capsys, text, says):
    pwned = tmp_path / "pwned"
    prompts = tmp_path / "prompts.yaml"
    prompts.write_text(text.replace("{pwned}", str(pwned)))
    assert main(["run", "clip", str(photos), "-q", "--prompts", str(prompts)]) == 2
    assert says in _one_line(capsys) and not pwned.exists()


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(FileNotFoundError):
        main(["--debug", "run", "quality", str(tmp_path / "nowhere")])


def test_imagevars_video_says_why_a_video_failed(tmp_path, capsys):
    (tmp_path / "broken.mp4").write_bytes(b"not a video at all")
    assert main(["video", str(tmp_path / "broken.mp4"), "-q", "--workers", "0"]) == 1
    out = capsys.readouterr().out
    assert "1 with errors" in out and f"error: {tmp_path / 'broken.mp4'}:" in out
