"""The one rule for putting data into the pages imagevars writes (the report page, the coding page).

Every string that comes from the data or the user (file names, labels, codebook text, OCR text, kept
columns, titles) is data, never markup or code:

- data for a page's script goes in ``<script type="application/json">`` as JSON with ``<``, ``>``, ``&``
  and U+2028/U+2029 written as ``\\u003c``-style escapes (:func:`script_json`), so nothing in it can end
  the script block, open an HTML comment (``<!--`` followed by ``<script`` swallows the rest of a page)
  or break a JavaScript string; the page reads it with ``JSON.parse`` and shows text with
  ``textContent``;
- text in the HTML itself goes through :func:`html.escape` (:func:`text`);
- a template's slots are filled in one pass (:func:`fill`), so a value that happens to contain another
  slot's name is never filled in again.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})
# a JSON string (left as it is), or a non-finite number Python writes and JSON.parse refuses
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|-?\bInfinity\b|\bNaN\b')


def script_json(data: Any, default: Callable[[Any], Any] | None = None) -> str:
    """``data`` as JSON that is safe inside a ``<script>`` element, whatever its strings hold.

    Example:
        >>> script_json({"name": "<!--<script>.jpg"})
        '{"name": "\\\\u003c!--\\\\u003cscript\\\\u003e.jpg"}'
        >>> json.loads(script_json(["</script>&\\u2028"])) == ["</script>&\\u2028"]
        True
        >>> script_json([float("nan"), "NaN"])
        '[null, "NaN"]'
    """
    # ensure_ascii writes U+2028/U+2029 and a file name's lone surrogates as \uXXXX escapes; <, > and & can only be
    # inside strings, and NaN or Infinity (which JSON.parse refuses) only outside them: they become null
    encoded = json.dumps(data, default=default)

    def safe(m: re.Match) -> str:
        token = m.group()
        if token[0] != '"':
            return "null"
        return token.translate(_SCRIPT_ESCAPES)

    return _TOKENS.sub(safe, encoded)


def text(value: Any) -> str:
    """``value`` as HTML text (and attribute-safe: quotes escaped).

    Example:
        >>> text('<b onclick="x">')
        '&lt;b onclick=&quot;x&quot;&gt;'
    """
    return html.escape(str(value), quote=True)


def fill(template: str, **slots: str) -> str:
    """``template`` with each ``__NAME__`` slot replaced by ``slots["name"]``, in one pass.

    Example:
        >>> fill("<title>__TITLE__</title>__DATA__", title="__DATA__", data="{}")
        '<title>__DATA__</title>{}'
    """
    wanted = {f"__{name.upper()}__": value for name, value in slots.items()}
    missing = [slot for slot in wanted if slot not in template]
    if missing:
        raise ValueError(f"the page template has no slot {missing[0]}")
    pattern = re.compile("|".join(re.escape(slot) for slot in wanted))
    return pattern.sub(lambda m: wanted[m.group()], template)
