"""Text that cannot be written out: lone UTF-16 surrogates hidden in escapes.

UTF-8 input cannot hold a surrogate code point (U+D800-U+DFFF), but escapes can: JSON
`"\\ud800"` without its pair, Turtle and N-Triples `\\uD800` (RDF escapes name code points, so
any surrogate there is invalid). Python decodes them into strings that fail later, when an
output is encoded (an internal error far from the input). The readers look for such escapes in
the raw text first (a fast scan), so the error names the file and the position.
"""

from __future__ import annotations

import re
from typing import Any

SURROGATE_ESCAPE = "a \\u escape names a UTF-16 surrogate (D800-DFFF), not a character"
_SURROGATE = re.compile("[\ud800-\udfff]")
# a \u escape preceded by an even number of backslashes (an odd number escapes the backslash)
_JSON_ESCAPE = re.compile(
    r"(?<!\\)(?:\\\\)*\\u(?:(d[89ab][0-9a-f]{2})(?:\\u(d[c-f][0-9a-f]{2}))?|(d[c-f][0-9a-f]{2}))",
    re.IGNORECASE,
)
_RDF_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\(?:u|U0000)d[89a-f][0-9a-f]{2}", re.IGNORECASE)


def has_surrogate(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


def any_surrogate(value: Any) -> bool:
    """Whether a decoded JSON value holds a lone surrogate in a key or a string."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if has_surrogate(v):
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def json_surrogate_escape(text: str, start: int = 0, end: int | None = None) -> int | None:
    """Index of the first `\\uXXXX` escape in JSON text that is a lone surrogate, or None."""
    stop = len(text) if end is None else end
    if text.find("\\", start, stop) < 0:
        return None
    for m in _JSON_ESCAPE.finditer(text, start, stop):
        if m.group(3) or not m.group(2):  # a low half alone, or a high half without its low
            return m.start() + m.group(0).index("\\u")
    return None


def rdf_surrogate_escape(text: str) -> int | None:
    """Index of the first Turtle / N-Triples escape naming a surrogate code point, or None."""
    if "\\" not in text:
        return None
    m = _RDF_ESCAPE.search(text)
    return None if m is None else m.start() + m.group(0).rindex("\\")


def line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def line_col(text: str, index: int) -> str:
    """`line:column` (1-based) of `index` in `text`."""
    line = text.count("\n", 0, index) + 1
    return f"{line}:{index - text.rfind(chr(10), 0, index)}"
