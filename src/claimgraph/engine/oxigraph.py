"""Oxigraph-specific rewriting (fast engine only; the endpoint runs the standard queries).

Oxigraph evaluates the group of a FILTER (NOT) EXISTS once per row with hash joins whose
sides do not see each other's bindings: `?claim cg:hasDocument ?doc . ?doc cg:documentType ?t`
scans every document for every row, so cost grows with the batch squared. Inside EXISTS
groups made of triple patterns and FILTERs only, the patterns are reordered (bound ones first)
and nested with LATERAL (SEP-0006), which Oxigraph evaluates with the bindings of the left
side: the same solutions (a join), found by index lookups. Anything else is left unchanged.
"""

from __future__ import annotations

from .sparqltext import Tok, filter_end, match_braces, tokens, vars_of

_NOT_SIMPLE = {
    "OPTIONAL",
    "UNION",
    "MINUS",
    "GRAPH",
    "SERVICE",
    "VALUES",
    "BIND",
    "SELECT",
    "LATERAL",
}


def _triples(stmt: list[Tok]) -> list[list[Tok]] | None:
    """`s p o , o2 ; p2 o3` as [[s, p.., o], ...]; None when not a plain statement."""
    if (
        not stmt
        or stmt[0].kind not in ("var", "iri", "word")
        or any(t.kind == "other" and t.text in "[]" for t in stmt)
    ):
        return None
    subject, out = stmt[0], []
    for po in _split(stmt[1:], ";"):
        if not po:
            continue
        objects = _split(po, ",")
        head = objects[0]
        obj_len = _object_len(head)
        if obj_len is None or obj_len >= len(head):
            return None
        path = head[: len(head) - obj_len]
        for k, obj in enumerate(objects):
            term = obj[len(obj) - obj_len :] if k == 0 else obj
            if k and _object_len(obj) != len(obj):
                return None
            out.append([subject, *path, *term])
    return out


def _split(toks: list[Tok], sep: str) -> list[list[Tok]]:
    parts: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.kind == "other" and t.text == "(":
            depth += 1
        elif t.kind == "other" and t.text == ")":
            depth -= 1
        if depth == 0 and t.kind == "other" and t.text == sep:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def _object_len(toks: list[Tok]) -> int | None:
    """Number of tokens of the object term that ends `toks`."""
    if not toks:
        return None
    last = toks[-1]
    if (
        len(toks) >= 4
        and toks[-2].text == "^"
        and toks[-3].text == "^"
        and toks[-4].kind == "string"
    ):
        return 4
    if len(toks) >= 3 and toks[-2].text == "@" and toks[-3].kind == "string":
        return 3
    if last.kind in ("var", "iri", "word", "string", "number"):
        return 1
    return None


def _bound_score(p: list[Tok], bound: set[str]) -> int:
    """How selective a pattern is once `bound` are known: subject bound 2, object bound 1."""
    s, o = p[0], p[-1]
    return 2 * (s.kind != "var" or s.text[1:] in bound) + (o.kind != "var" or o.text[1:] in bound)


def lateral_exists(query: str) -> str:
    """`query` with its simple EXISTS groups nested with LATERAL (see above)."""
    toks = tokens(query)
    pairs = match_braces(toks)

    def text(a: int, b: int) -> str:
        """Original text of tokens a..b-1, with EXISTS groups inside rewritten."""
        if a >= b:
            return ""
        parts, i, pos = [], a, toks[a].start
        while i < b:
            t = toks[i]
            parts.append(query[pos : t.start])
            if t.kind == "other" and t.text == "{" and i > 0 and toks[i - 1].upper == "EXISTS":
                parts.append(group(i))
                i = pairs[i] + 1
            else:
                parts.append(t.text)
                i += 1
            pos = toks[i - 1].start + len(toks[i - 1].text)
        return "".join(parts)

    def group(open_: int) -> str:
        close = pairs[open_]
        stmts: list[list[Tok]] = [[]]
        filters: list[tuple[int, int]] = []
        i = open_ + 1
        while i < close:
            t = toks[i]
            if t.upper in _NOT_SIMPLE or (t.kind == "other" and t.text in "{}"):
                return "{ " + text(open_ + 1, close) + " }"
            if t.upper == "FILTER":
                end = filter_end(toks, i, pairs)
                filters.append((i, end))
                i = end
                continue
            if t.kind == "other" and t.text == ".":
                stmts.append([])
            else:
                stmts[-1].append(t)
            i += 1
        patterns: list[list[Tok]] = []
        for stmt in stmts:
            if not stmt:
                continue
            found = _triples(stmt)
            if found is None:
                return "{ " + text(open_ + 1, close) + " }"
            patterns.extend(found)
        if len(patterns) < 2:
            return "{ " + text(open_ + 1, close) + " }"
        outer = vars_of(toks[:open_]) | vars_of(toks[close + 1 :])
        bound, ordered = set(outer), []
        rest = list(patterns)
        while rest:
            best = max(range(len(rest)), key=lambda k: (_bound_score(rest[k], bound), -k))
            p = rest.pop(best)
            ordered.append(p)
            bound |= vars_of(p)
        body = " ".join(t.text for t in ordered[-1])
        for p in reversed(ordered[:-1]):
            body = " ".join(t.text for t in p) + " LATERAL { " + body + " }"
        filt = " ".join(text(a, b) for a, b in filters)
        return "{ " + body + " " + filt + " }"

    return text(0, len(toks))
