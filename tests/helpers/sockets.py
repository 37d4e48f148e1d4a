"""Checks on the sockets a test's servers open, and a port for them."""

from __future__ import annotations

import contextlib


def loopback(ip: str) -> bool:
    """127.0.0.1, ::1, or IPv4's loopback written as IPv6 (::ffff:127.0.0.1).

    Example:
        >>> loopback("::ffff:127.0.0.1"), loopback("0.0.0.0")
        (True, False)
    """
    import ipaddress

    address = ipaddress.ip_address(ip)
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


def unused_port() -> int:
    """A loopback port nobody listens on once this returns: free for a server to take, or closed to a client.

    Example:
        >>> 0 < unused_port() < 65536
        True
    """
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(handler):
    """A threading HTTP server on a free loopback port, answering with ``handler`` (a request handler class or
    factory); yields the port, and stops and closes the server on the way out."""
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
