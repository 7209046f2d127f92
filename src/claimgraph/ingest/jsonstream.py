"""Reading one top-level JSON array element by element, with exact line:column errors.

`{"claims": [ ... 100,000 claims ... ]}` is never loaded whole: the text is read in chunks and
each element is decoded on its own with the standard library's C decoder (`raw_decode`), so
memory stays bounded by the largest single element. Errors name line and column, never the
text around them (claims carry patient data).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from ..errors import InputError
from ..unicodecheck import json_surrogate_escape, line_col
from .source import Input

CHUNK = 1 << 16
SURROGATE = "not valid JSON (a \\u escape is half of a UTF-16 surrogate pair, not a character)"
_WS = " \t\r\n"
_DECODER = json.JSONDecoder()


class JsonStream:
    """The text of a file, read on demand; positions are tracked as line:column."""

    def __init__(self, f: IO[str], path: Input):
        self.f = f
        self.path = path
        self.buf = ""
        self.pos = 0  # next unread index in buf
        self.eof = False
        self.line = 1  # line and column of buf[0]
        self.col = 1

    def error(self, message: str, index: int | None = None) -> InputError:
        return InputError(message, path=str(self.path), position=self.where(index))

    def where(self, index: int | None = None) -> str:
        i = self.pos if index is None else index
        newlines = self.buf.count("\n", 0, i)
        if newlines:
            return f"{self.line + newlines}:{i - self.buf.rfind(chr(10), 0, i)}"
        return f"{self.line}:{self.col + i}"

    def fill(self) -> bool:
        """Read more text (at least as much as is buffered); False at the end of the file."""
        if self.eof:
            return False
        done = self.buf[: self.pos]
        newlines = done.count("\n")
        if newlines:
            self.line += newlines
            self.col = len(done) - done.rfind("\n")
        else:
            self.col += len(done)
        self.buf = self.buf[self.pos :]
        self.pos = 0
        try:
            more = self.f.read(max(CHUNK, len(self.buf)))
        except UnicodeDecodeError:
            raise self.error("not UTF-8 text", len(self.buf)) from None
        if not more:
            self.eof = True
            return False
        self.buf += more
        return True

    def peek(self) -> str:
        """The next character that is not white space ('' at the end of the file)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""

    def expect(self, chars: str, what: str) -> str:
        c = self.peek()
        if not c or c not in chars:
            raise self.error(f"not valid JSON (expected {what})")
        self.pos += 1
        return c

    def value(self) -> Any:
        """Decode the next JSON value; read more text while it is incomplete."""
        self.peek()
        while True:
            try:
                obj, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as e:
                if not self.eof:  # perhaps only incomplete: read more and decode again
                    self.fill()
                    continue
                raise self.error(f"not valid JSON ({e.msg})", e.pos) from None
            except ValueError:  # e.g. an integer longer than Python's digit limit
                raise self.error("not valid JSON (a number is too long)") from None
            # a number or literal cut at the chunk end would decode short: need what follows
            if end >= len(self.buf) and not self.eof:
                self.fill()
                continue
            bad = json_surrogate_escape(self.buf, self.pos, end)
            if bad is not None:  # decodes to a string no output can encode
                raise self.error(SURROGATE, bad)
            self.pos = end
            return obj


def loads(text: str, path: Input, line: int | None = None) -> Any:
    """`json.loads` with one-line errors naming the position (`line`: the text is that line of
    the file): syntax, numbers too long for Python, nesting too deep, lone surrogates."""

    def where(index: int) -> str:
        at = line_col(text, index)
        return at if line is None else f"{line}:{at.split(':')[1]}"

    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(
            f"not valid JSON ({e.msg})", path=str(path), position=where(e.pos)
        ) from None
    except ValueError:  # an integer longer than Python's digit limit
        raise InputError(
            "not valid JSON (a number is too long)",
            path=str(path),
            position=None if line is None else str(line),
        ) from None
    except RecursionError:
        raise InputError("the JSON is nested too deeply", path=str(path)) from None
    bad = json_surrogate_escape(text)
    if bad is not None:
        raise InputError(SURROGATE, path=str(path), position=where(bad))
    return obj


def open_text(path: Input) -> IO[str]:
    return path.open(encoding="utf-8-sig", newline="")


def top_level_kind(path: Input, keys: dict[str, str]) -> str | None:
    """The kind named by the first top-level key found in `keys` (None if none, or not an object).

    Values of other keys are skipped; reading stops at the first decisive key.
    """
    found = top_level_value(path, set(keys), decode=False)
    return keys[found[0]] if found else None


def top_level_value(path: Input, keys: set[str], decode: bool = True) -> tuple[str, Any] | None:
    """(key, value) of the first top-level key in `keys`; None when there is none."""
    with open_text(path) as f:
        s = JsonStream(f, path)
        if s.peek() != "{":
            return None
        s.pos += 1
        while s.peek() not in ("}", ""):
            key = s.value()
            s.expect(":", "':'")
            if isinstance(key, str) and key in keys:
                return key, s.value() if decode else None
            s.value()
            if s.expect(",}", "',' or '}'") == "}":
                break
    return None


def iter_array(path: Input, key: str, shape: str, *, required: bool = True) -> Iterator[Any]:
    """Each element of the array under top-level `key`.

    `shape` is the message when the file is not an object with that array (with `required`
    False, an object without `key` is an empty array). The rest of the file is checked too, so
    a truncated file is an error, not a silent partial read.
    """
    with open_text(path) as f:
        s = JsonStream(f, path)
        if s.peek() == "":
            raise s.error("empty file: expected " + shape)
        if s.peek() != "{":
            raise s.error("expected " + shape)
        s.pos += 1
        found = False
        if s.peek() == "}":
            s.pos += 1
        else:
            while True:
                s.peek()
                at = s.where()
                name = s.value()
                if not isinstance(name, str):
                    raise InputError("not valid JSON (expected a key)", path=str(path), position=at)
                s.expect(":", "':'")
                if name == key and not found and s.peek() == "[":
                    found = True
                    s.pos += 1
                    if s.peek() == "]":
                        s.pos += 1
                    else:
                        while True:
                            yield s.value()
                            if s.expect(",]", "',' or ']'") == "]":
                                break
                elif name == key:
                    raise InputError("expected " + shape, path=str(path), position=at)
                else:
                    s.value()
                if s.expect(",}", "',' or '}'") == "}":
                    break
        if s.peek() != "":
            raise s.error("not valid JSON (extra data after the top-level object)")
        if not found and required:
            raise InputError("expected " + shape, path=str(path), position="1:1")
