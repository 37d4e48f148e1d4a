"""URLs against a loopback server that cuts, drips and lies: error rows, retries, nothing bad cached."""

from __future__ import annotations

import io
import time
from http.server import BaseHTTPRequestHandler

import pytest
from PIL import Image

import imagevars
from imagevars.io.decode import DecodeError
from imagevars.io.http import cache_file, fetch
from sockets import serving  # tests/helpers


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 90, 200)).save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


class _Handler(BaseHTTPRequestHandler):
    hits: dict = {}

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        if self.path == "/ok.png" or (self.path == "/flaky.png" and self.hits[self.path] > 1):
            self._send(PNG)
        elif self.path in ("/cut.png", "/flaky.png"):  # announces the whole image, sends half, hangs up
            self._send(PNG[: len(PNG) // 2], length=len(PNG))
        elif self.path == "/drip.png":  # one byte every 0.2 s: never idle long enough for a read timeout
            self.send_response(200)
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            for b in PNG[:40]:
                self.wfile.write(bytes([b]))
                self.wfile.flush()
                time.sleep(0.2)
        elif self.path == "/loop.png":  # redirects to itself for ever
            self.send_response(302)
            self.send_header("Location", "/loop.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/lie.png":  # an error page served with 200
            self._send(b"<html><body>Rate limit exceeded</body></html>", kind="text/html")
        else:
            self.send_error(404)

    def _send(self, body: bytes, length: int | None = None, kind: str = "image/png"):
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length if length is not None else len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    _Handler.hits = {}
    with serving(_Handler) as port:
        yield f"http://127.0.0.1:{port}"


def test_a_cut_body_is_retried_and_never_cached(server, isolated_cache):
    with pytest.raises(DecodeError, match=r"cut\.png: the connection ended after \d+ of \d+ bytes \(after 2 tries\)"):
        fetch(f"{server}/cut.png", retries=1)
    assert not cache_file(f"{server}/cut.png").exists()
    assert fetch(f"{server}/flaky.png", retries=1) == PNG and _Handler.hits["/flaky.png"] == 2
    assert cache_file(f"{server}/flaky.png").read_bytes() == PNG


def test_a_dripping_server_is_cut_off_at_the_deadline(server):
    start = time.monotonic()
    with pytest.raises(DecodeError, match="not done after the deadline of 1 s"):
        fetch(f"{server}/drip.png", retries=0, timeout=5, deadline=1.0)
    assert time.monotonic() - start < 4


def test_a_redirect_loop_is_an_error_at_once(server):
    start = time.monotonic()
    with pytest.raises(DecodeError, match=r"loop\.png: HTTP 302"):
        fetch(f"{server}/loop.png", retries=2)
    assert time.monotonic() - start < 5 and _Handler.hits["/loop.png"] <= 12  # not retried: the answer is final


def test_an_error_page_served_with_200_is_an_error_row_and_not_cached(server, isolated_cache, tmp_path):
    urls = [f"{server}/lie.png", f"{server}/ok.png", f"{server.replace('http://', 'HTTP://')}/ok.png"]
    table = imagevars.run(["quality"], urls, workers=0, progress=False).to_pandas()
    assert table["error"].iloc[0].startswith(f"{server}/lie.png: an HTML page, not an image")
    assert table["error"].iloc[1:].isna().all() and table["quality_width"].iloc[1:].tolist() == [40, 40]
    assert not cache_file(f"{server}/lie.png").exists() and cache_file(f"{server}/ok.png").exists()


def test_the_cli_takes_url_settings(server, tmp_path, capsys, isolated_cache):
    from imagevars.cli import main

    listing = tmp_path / "urls.txt"
    listing.write_text(f"{server}/ok.png\n{server}/drip.png\n")
    code = main(
        [
            "run",
            "quality",
            str(listing),
            "-q",
            "--workers",
            "0",
            "--retries",
            "0",
            "--timeout",
            "5",
            "--deadline",
            "1",
            "--no-cache",
            "-o",
            str(tmp_path / "v.csv"),
        ]
    )
    assert code == 0 and "not done after the deadline of 1 s" in capsys.readouterr().out
    assert not (tmp_path / "cache" / "urls").exists()  # --no-cache: nothing kept
