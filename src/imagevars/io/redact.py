"""Secrets in URLs, kept out of everything imagevars shows or records.

A URL may carry a password (``http://user:password@host/x.jpg``) or a signed query (``?token=...``,
``X-Amz-Signature=...``). The ``source`` column keeps the URL as given: it is the user's key to their data.
Everywhere else (error rows, log lines, provenance, pages) the secret is written as ``***`` by
:func:`redact`; :func:`split_userinfo` gives the fetcher the address without its userinfo and the basic-auth
header to send instead.
"""

from __future__ import annotations

import base64
import re
import urllib.parse

MASK = "***"
# query parameters whose values are secrets: tokens, signatures, keys, passwords, and every X-Amz-* parameter
SECRET_PARAMETER = re.compile(
    r"(?i)^(x-amz-.*|.*(token|signature|sig|key|password|passwd|pwd|secret|credential|auth).*)$"
)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#@\s:]*)(:[^/?#@\s]*)?@")
# a value ends at &, #, a space or the end, not counting a colon just before them (the ": " of a message)
_QUERY_PARAMETER = re.compile(r"([?&;])([^=&#\s]+)=([^&#\s]*?)(?=:?(?:[&#\s]|$))")


def redact(text: str) -> str:
    """``text`` with every URL's password and secret query values written as ``***``.

    Example:
        >>> redact("http://ada:s3cret@example.org/a.jpg?size=2&token=abc: HTTP 404")
        'http://ada:***@example.org/a.jpg?size=2&token=***: HTTP 404'
        >>> redact("https://b.s3.amazonaws.com/k.jpg?X-Amz-Credential=AK&X-Amz-Signature=f00")
        'https://b.s3.amazonaws.com/k.jpg?X-Amz-Credential=***&X-Amz-Signature=***'
    """
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}{':' + MASK if m.group(3) else ''}@", text)
    return _QUERY_PARAMETER.sub(
        lambda m: f"{m.group(1)}{m.group(2)}={MASK}" if SECRET_PARAMETER.match(m.group(2)) else m.group(0), text
    )


def split_userinfo(url: str) -> tuple[str, str | None]:
    """(the URL without ``user:password@``, the ``Authorization`` header value for it, or None).

    Example:
        >>> split_userinfo("https://ada:p%40ss@example.org/a.jpg")
        ('https://example.org/a.jpg', 'Basic YWRhOnBAc3M=')
        >>> split_userinfo("https://example.org/a.jpg")
        ('https://example.org/a.jpg', None)
    """
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    pair = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}".encode()
    return urllib.parse.urlunsplit(parts._replace(netloc=host)), "Basic " + base64.b64encode(pair).decode()


def redact_all(value, skip: frozenset[str] = frozenset()):
    """``value`` (dicts, lists, strings) with :func:`redact` applied to every string; the dict keys in ``skip``
    are left as they are (a page's images: base64 is not a URL).

    Example:
        >>> redact_all({"input": ["http://a:b@h/x.jpg"], "n": 2})
        {'input': ['http://a:***@h/x.jpg'], 'n': 2}
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: v if k in skip else redact_all(v, skip) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_all(v, skip) for v in value]
    return value
