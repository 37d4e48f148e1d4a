"""Files that are not what their names say, side by side in one folder: each is one error row with a
one-line reason that says what the file is; the good image beside them is measured."""

from __future__ import annotations

import io

from PIL import Image

import imagevars
from videos import make_video  # tests/helpers


def test_each_odd_file_is_one_error_row_that_says_what_it_is(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(buf, "PNG")
    png = buf.getvalue()
    d = tmp_path / "photos"
    d.mkdir()
    (d / "good.png").write_bytes(png)
    (d / "zero.jpg").write_bytes(b"")
    (d / "truncated.png").write_bytes(png[: len(png) // 2])
    (d / "login.png").write_text("<!DOCTYPE html>\n<html><body>Please sign in</body></html>")
    make_video(tmp_path / "clip.mp4", seconds=1.0)
    (tmp_path / "clip.mp4").rename(d / "clip.jpg")
    (d / "folder.jpg").mkdir()  # a folder in a folder is walked into (here: nothing in it) ...
    df = imagevars.run(["quality"], d, progress=False).to_pandas().set_index("source")
    named = imagevars.run(["quality"], [str(d / "folder.jpg")], progress=False).to_pandas()  # ... named, an error
    why = {s.rsplit("/", 1)[-1]: e for s, e in df["error"].dropna().items()} | {"folder.jpg": named["error"][0]}
    assert df.loc[str(d / "good.png"), "quality_width"] == 64 and len(df) == 5 and len(named) == 1
    assert why == {
        "folder.jpg": f"{d / 'folder.jpg'}: is a folder, not an image",
        "zero.jpg": f"{d / 'zero.jpg'}: empty file (0 bytes)",
        "truncated.png": f"{d / 'truncated.png'}: image file is truncated",
        "login.png": f"{d / 'login.png'}: an HTML page, not an image (a server's error or login page saved under "
        "an image's name?)",
        "clip.jpg": f"{d / 'clip.jpg'}: a video (MP4/MOV), not an image: give it a video suffix (.mp4) to sample "
        "its frames",
    }
    assert all("\n" not in e for e in why.values())
