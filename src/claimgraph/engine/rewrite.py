"""`rewrite_sparql`: one `sh:select` of a shape as a query over all focus nodes at once.

pyshacl runs a SHACL-SPARQL constraint once per focus node with `$this` pre-bound. The
rewritten query evaluates every focus node together with the same result: `$this` becomes a
variable joined with the shape's target in EVERY group that would otherwise see it unbound
(a focus node satisfies its target wherever pyshacl binds it), `$currentShape` becomes the
shape's IRI, SELECTs that aggregate are grouped by `?this` as well, and the prefixes of
`sh:prefixes` are declared as pyshacl does. What pyshacl refuses (MINUS, VALUES, SERVICE,
a sub-SELECT without $this) and what would change the meaning (LIMIT, rebinding $this) is
refused with a ValueError.
"""

from __future__ import annotations

from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.term import Node

from ..namespaces import SH
from .sparqltext import (
    Tok,
    filter_end,
    find_selects,
    has_this,
    inside_group,
    is_this,
    match_braces,
    span_end,
    tokens,
)

DEFAULT_PREFIXES = {  # the prefixes pyshacl always declares
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": "http://www.w3.org/2002/07/owl#",
}
_AGGREGATES = {"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"}
_REFUSED = {"MINUS", "VALUES", "SERVICE"}  # refused by SHACL-SPARQL (and pyshacl)


def _needs_target(toks: list[Tok], open_: int, pairs: dict[int, int]) -> bool:
    """Whether a nested group must bind ?this itself to behave as with $this pre-bound.

    EXISTS groups see the row's ?this (substitution); a group with ?this in one of its own
    triple patterns binds it (and the join with the enclosing group keeps the same rows); the
    FILTER of an OPTIONAL group sees the left side's ?this. Any other use of ?this in a
    group's own FILTER or BIND would see it unbound: such a group gets the target pattern.
    """
    before = toks[open_ - 1].upper if open_ else ""
    if before == "EXISTS":
        return False
    close = pairs[open_]
    in_triple = in_filter = in_bind = False
    i = open_ + 1
    while i < close:
        t = toks[i]
        if t.kind == "other" and t.text == "{":
            i = pairs[i] + 1
            continue
        if t.upper in ("FILTER", "BIND"):
            end = (
                filter_end(toks, i, pairs) if t.upper == "FILTER" else span_end(toks, i + 1, pairs)
            )
            for k in range(i, end):
                if is_this(toks[k]) and not inside_group(k, i, end, pairs):
                    in_filter |= t.upper == "FILTER"
                    in_bind |= t.upper == "BIND"
            i = end
            continue
        in_triple |= is_this(t)
        i += 1
    if in_triple:
        return False
    if before == "OPTIONAL":
        return in_bind
    return in_filter or in_bind


def rewrite_sparql(
    select: str,
    shape: str,
    target: str,
    prefixes: dict[str, str],
    project: tuple[str, ...] = (),
    nested: str | None = None,
) -> str:
    """The pyshacl-equivalent all-focus-nodes query of one `sh:select` (see module doc):
    `target` binds ?this in the query's group, `nested` (default: `target`) in nested groups
    that must bind it themselves; `project`: variables of the message template, returned
    beside ?this."""
    toks = tokens(select)
    for t in toks:
        if t.upper in _REFUSED:
            raise ValueError(f"{t.upper} is not allowed in a SHACL-SPARQL constraint")
        if t.kind == "var" and t.text[1:] in ("shapesGraph", "PATH", "value"):
            raise ValueError(f"{t.text} is not supported by the fast engine")
        if t.upper in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE") and t.upper != "SELECT":
            raise ValueError("sh:select must be a SELECT query")
    first = next((i for i, t in enumerate(toks) if t.upper == "SELECT"), None)
    prologue = toks[:first]
    if first is None:
        raise ValueError("sh:select must be a SELECT query")
    if prologue and prologue[0].upper not in ("PREFIX", "BASE"):
        raise ValueError("sh:select must start with SELECT (after PREFIX declarations)")
    if any(t.upper == "BASE" for t in prologue):
        raise ValueError("BASE is not supported")
    toks = toks[first:]
    pairs = match_braces(toks)
    selects = find_selects(toks, pairs)
    if any(t.upper in ("FROM", "NAMED") for t in toks[: selects[0].where]):
        raise ValueError("FROM clauses are not supported")
    inserts: dict[int, list[str]] = {}  # token index -> texts to insert before it
    replace: dict[int, str] = {}
    for sel in selects:
        correlated = sel is selects[0] or has_this(toks, sel.where, sel.end)
        if not correlated:
            continue
        head = toks[sel.start + 1 : sel.where]
        words = [t.upper for t in head]
        if "*" in [t.text for t in head] and sel is not selects[0]:
            raise ValueError("a nested SELECT * cannot carry the pre-bound $this")
        mods = toks[sel.end + 1 : sel.stop]
        mod_words = [t.upper for t in mods]
        if "LIMIT" in mod_words or "OFFSET" in mod_words:
            raise ValueError("LIMIT/OFFSET would apply to all focus nodes at once")
        for k, t in enumerate(head):  # `(... AS $this)` would rebind the pre-bound variable
            if t.upper == "AS" and k + 1 < len(head) and is_this(head[k + 1]):
                raise ValueError("cannot rebind $this with AS")
        if not any(is_this(t) for t in head) and "*" not in [t.text for t in head]:
            if sel is not selects[0]:
                raise ValueError("a nested SELECT must project the pre-bound $this")
            # project ?this: after SELECT [DISTINCT|REDUCED]
            at = sel.start + 1 + (1 if words and words[0] in ("DISTINCT", "REDUCED") else 0)
            inserts.setdefault(at, []).append("?this")
        aggregated = "GROUP" in mod_words or any(t.upper in _AGGREGATES for t in [*head, *mods])
        if aggregated:
            if "GROUP" in mod_words:
                by = sel.end + 1 + mod_words.index("GROUP") + 2  # after GROUP BY
                keys = []
                for t in toks[by : sel.stop]:
                    if t.upper in ("HAVING", "ORDER", "LIMIT", "OFFSET"):
                        break
                    keys.append(t)
                if not any(is_this(t) for t in keys):
                    inserts.setdefault(by, []).append("?this")
            else:
                inserts.setdefault(sel.end + 1, []).append("GROUP BY ?this")
    # Join the target where ?this could otherwise be unbound (see _needs_target).
    sub_wheres = {sel.where for sel in selects[1:] if has_this(toks, sel.where, sel.end)}
    for open_ in pairs:
        if toks[open_ + 1].upper == "SELECT":  # `{ SELECT ... }` holds a sub-SELECT
            continue
        if open_ == selects[0].where:
            inserts.setdefault(open_ + 1, []).append(target)
        elif open_ in sub_wheres or _needs_target(toks, open_, pairs):
            inserts.setdefault(open_ + 1, []).append(nested or target)
    for i, t in enumerate(toks):
        if is_this(t):
            replace[i] = "?this"
        elif t.kind == "var" and t.text[1:] == "currentShape":
            replace[i] = f"<{shape}>"
    parts, pos = [], toks[0].start
    for i, t in enumerate(toks):  # the original text, with insertions and replacements
        parts.append(select[pos : t.start])
        parts.extend(f" {x} " for x in inserts.get(i, []))
        parts.append(replace.get(i, t.text))
        pos = t.start + len(t.text)
    parts.extend(f" {x} " for x in inserts.get(len(toks), []))
    body = "".join(parts)
    declared = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items())
    declared += " ".join(t.text for t in prologue) + "\n"
    projected = "".join(f" ?{v}" for v in project)
    return f"{declared}SELECT DISTINCT ?this{projected} WHERE {{\n{{ {body} }}\n}}"


def prefixes_of(sg: Graph, holder: Node) -> dict[str, str]:
    """pyshacl's prefix collection for a SPARQL text held by `holder` (a constraint, a target
    type): rdf/rdfs/owl plus the sh:declare of each of its sh:prefixes."""
    out = dict(DEFAULT_PREFIXES)
    onts = set(sg.subjects(RDF.type, URIRef("http://www.w3.org/2002/07/owl#Ontology")))
    global_declares = {d for o in onts for d in sg.objects(o, SH.declare)}
    for pv in sg.objects(holder, SH.prefixes):
        own = set(sg.objects(pv, SH.declare))
        declares = own if own and pv in onts else global_declares | own
        for d in declares:
            prefix, ns = sg.value(d, SH.prefix), sg.value(d, SH.namespace)
            if prefix is None or ns is None:
                raise ValueError("sh:declare needs sh:prefix and sh:namespace")
            out[str(prefix)] = str(ns)
    return out
