"""A loopback HTTP server that holds its one image until the test lets it go: a run that reaches it waits there,
so a test can act on a run in progress at a known point, with no timer to race."""

from __future__ import annotations

import contextlib
import http.server
import threading

from sockets import serving  # tests/helpers


@contextlib.contextmanager
def held_image(payload: bytes, name: str = "held.jpg"):
    """Yield (url, arrived, release): ``arrived`` is set when a request for the image comes in; the answer waits
    until ``release`` is set (the server sets it on the way out, so nothing is left waiting)."""
    arrived, release = threading.Event(), threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            arrived.set()
            release.wait()
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    with serving(Handler) as port:
        try:
            yield f"http://127.0.0.1:{port}/{name}", arrived, release
        finally:
            release.set()  # before the server stops: it waits for its handlers
