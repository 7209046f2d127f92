"""SPARQL text as tokens: enough to find variables, groups, FILTERs and SELECTs reliably.

The compiler (rewrite.py) and the Oxigraph rewriting (oxigraph.py) work on these tokens and
splice the original text, so a query keeps its own spelling where nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<comment>#[^\n]*)"
    r'|(?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')'
    r'|(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)'
    r"|(?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)"
    r"|(?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<word>(?:[A-Za-z_](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_\-])?)?:(?:[A-Za-z0-9_\-%](?:[A-Za-z0-9_\-.%]*[A-Za-z0-9_\-%])?)?"
    r"|[A-Za-z_](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_\-])?)"
    r"|(?P<other>.)",
    re.S,
)


@dataclass
class Tok:
    kind: str
    text: str
    start: int  # offset in the query text

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def tokens(text: str) -> list[Tok]:
    out = []
    for m in TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind not in ("ws", "comment"):
            out.append(Tok(kind, m.group(), m.start()))
    return out


def is_this(tok: Tok) -> bool:
    return tok.kind == "var" and tok.text[1:] == "this"


@dataclass
class Select:
    """A SELECT (the query or a sub-SELECT), by token positions."""

    start: int  # index of the SELECT keyword
    where: int  # index of its '{'
    end: int  # index of its closing '}'
    stop: int  # index after its solution modifiers


def match_braces(toks: list[Tok]) -> dict[int, int]:
    pairs, stack = {}, []
    for i, t in enumerate(toks):
        if t.text == "{" and t.kind == "other":
            stack.append(i)
        elif t.text == "}" and t.kind == "other":
            if not stack:
                raise ValueError("unbalanced '}'")
            pairs[stack.pop()] = i
    if stack:
        raise ValueError("unbalanced '{'")
    return pairs


def find_selects(toks: list[Tok], pairs: dict[int, int]) -> list[Select]:
    out = []
    for i, t in enumerate(toks):
        if t.upper != "SELECT":
            continue
        j = i + 1
        while j < len(toks) and not (toks[j].text == "{" and toks[j].kind == "other"):
            j += 1
        if j == len(toks):
            raise ValueError("SELECT without a WHERE group")
        end = pairs[j]
        stop = end + 1
        depth = 0  # solution modifiers run until the enclosing group closes
        while stop < len(toks):
            s = toks[stop]
            if s.kind == "other" and s.text == "(":
                depth += 1
            elif s.kind == "other" and s.text == ")":
                depth -= 1
            elif s.kind == "other" and s.text in "{}" and depth == 0:
                break
            stop += 1
        out.append(Select(i, j, end, stop))
    return out


def has_this(toks: list[Tok], a: int, b: int) -> bool:
    return any(is_this(t) for t in toks[a:b])


def inside_group(k: int, a: int, b: int, pairs: dict[int, int]) -> bool:
    """Whether token k lies in a {...} group that opens between a and b (an EXISTS group)."""
    return any(a <= o < k < c for o, c in pairs.items() if o < b)


def span_end(toks: list[Tok], i: int, pairs: dict[int, int]) -> int:
    """Index after the expression that starts at i: a (...) / {...} block or one token."""
    t = toks[i]
    if t.kind == "other" and t.text == "(":
        depth = 0
        for j in range(i, len(toks)):
            if toks[j].kind == "other" and toks[j].text == "(":
                depth += 1
            elif toks[j].kind == "other" and toks[j].text == ")":
                depth -= 1
                if depth == 0:
                    return j + 1
        raise ValueError("unbalanced '('")
    if t.kind == "other" and t.text == "{":
        return pairs[i] + 1
    return i + 1


def filter_end(toks: list[Tok], i: int, pairs: dict[int, int]) -> int:
    """Index after `FILTER <constraint>` starting at token i (the FILTER keyword)."""
    j = i + 1
    if toks[j].upper == "NOT":
        j += 1
    if toks[j].upper == "EXISTS":
        return span_end(toks, j + 1, pairs)
    if toks[j].kind == "word":  # a function call: name(...)
        j += 1
    return span_end(toks, j, pairs)


def vars_of(toks: Iterable[Tok]) -> set[str]:
    return {t.text[1:] for t in toks if t.kind == "var"}
