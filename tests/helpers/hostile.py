"""Strings that try to break pages and tables: markup, script, comments, template slots, separators.

:data:`FILE_NAMES` are the same without ``/`` (which no file name can hold) for naming files and tables.
A string that runs code sets ``window.__pwned``.
"""

HOSTILE = [
    "<!--<script>",
    "</script><script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "\"'><svg onload=window.__pwned=1>",
    "&lt;b&gt;as written&lt;/b&gt; &amp;",
    "line\u2028separator\u2029paragraph",
    "__DATA__ __TITLE__",
    "javascript:window.__pwned=1",
    "${window.__pwned=1} {{7*7}}",
    "--> ]]> <![CDATA[",
    "\u202eright-to-left override",
    "%3Cscript%3E \\u003c",
]
FILE_NAMES = [s.replace("/", "") for s in HOSTILE]


def pwned(driver) -> bool:
    """Whether any hostile string ran code in the page."""
    return bool(driver.execute_script("return window.__pwned === 1"))


def shown(driver, strings) -> list[str]:
    """The strings the page's text does not hold exactly as written."""
    text = driver.execute_script("return document.body.textContent + ' ' + document.title")
    return [s for s in strings if s not in text]
