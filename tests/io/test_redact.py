"""A URL's password and secret query values: sent as they must be, shown and recorded nowhere."""

from __future__ import annotations

import base64
import contextlib
import http.server
import io
import json
import subprocess
import sys

from PIL import Image

import imagevars
from imagevars.io.redact import redact
from sockets import serving  # tests/helpers

SECRET = "s3cret-Pa55"
TOKEN = "tok-abc-123"


@contextlib.contextmanager
def _basic_auth_server(payload: bytes):
    """A loopback server that serves /photo.png to ada:SECRET only; it records each request's path and
    Authorization header."""
    seen: list[tuple[str, str | None]] = []
    want = "Basic " + base64.b64encode(f"ada:{SECRET}".encode()).decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            seen.append((self.path, self.headers.get("Authorization")))
            if self.path.startswith("/photo.png") and self.headers.get("Authorization") == want:
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            else:
                self.send_response(401 if self.path.startswith("/photo.png") else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

        def log_message(self, *args):
            pass

    with serving(Handler) as port:
        yield port, seen


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_userinfo_is_sent_as_basic_auth_and_no_secret_reaches_errors_provenance_page_or_log(tmp_path):
    with _basic_auth_server(_png()) as (port, seen):
        good = f"http://ada:{SECRET}@127.0.0.1:{port}/photo.png"
        wrong = f"http://ada:not-{SECRET}@127.0.0.1:{port}/photo.png?v=2"
        signed = f"http://127.0.0.1:{port}/missing.png?size=2&token={TOKEN}&X-Amz-Signature={TOKEN}"
        (tmp_path / "urls.txt").write_text("\n".join([good, wrong, signed]) + "\n")
        out = tmp_path / "vars.parquet"
        cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "imagevars.cli",
                "run",
                "quality",
                str(tmp_path / "urls.txt"),
                "-o",
                str(out),
                "--no-cache",
                "--retries",
                "0",
                "--report",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert cli.returncode == 0, cli.stderr
    assert ("/photo.png", "Basic " + base64.b64encode(f"ada:{SECRET}".encode()).decode()) in seen
    assert all("@" not in path and SECRET not in path for path, _ in seen)  # userinfo never in the address
    res = imagevars.Results.read(out)
    df = res.to_pandas()
    assert df["source"].tolist() == [good, wrong, signed]  # the user's key to their data, as given
    assert df["error"].isna().tolist() == [True, False, False] and df["quality_width"].iloc[0] == 40
    errors = " ".join(df["error"].dropna())
    assert "HTTP 401" in errors and "HTTP 404" in errors and "***" in errors
    page = (tmp_path / "vars.html").read_text()
    for where, text in {
        "errors": errors,
        "provenance": json.dumps(res.provenance),
        "log": cli.stdout + cli.stderr,
        "page": page,
    }.items():
        assert SECRET not in text and TOKEN not in text, where


def test_redact_keeps_what_is_not_a_secret():
    assert redact("photos/a=b.jpg: not an image") == "photos/a=b.jpg: not an image"
    assert redact("https://h/x.jpg?w=200&page=3") == "https://h/x.jpg?w=200&page=3"
    assert redact("ftp://anonymous@h/x.jpg") == "ftp://anonymous@h/x.jpg"  # a user name alone is no secret
    assert redact(f"https://h/x?api_key={TOKEN}&sig={TOKEN}&Signature={TOKEN}").count("***") == 3
