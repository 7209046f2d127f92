"""Compile the shipped SHACL shapes to SPARQL SELECTs that return the failing focus nodes.

The shapes stay the single source of truth: each check is derived from a shape, never written
by hand. A check is one query `SELECT DISTINCT ?this WHERE { ... }` over claims + knowledge graph
that returns every focus node pyshacl would report for that shape and constraint:

- `sh:sparql` constraints: the prefixes of `sh:prefixes` are prepended (as pyshacl does),
  `$currentShape` becomes the shape's IRI, and `$this` (pre-bound, one focus node at a time, in
  pyshacl) becomes a variable joined with the target in EVERY group that mentions it, so the
  query evaluates all focus nodes at once with the same result (a focus node satisfies its
  target wherever pyshacl binds it). SELECTs that aggregate are grouped by `?this` as well.
- SHACL core constraints (min/maxCount, datatype, class, nodeKind, in, hasValue, pattern,
  min/maxLength, min/maxInclusive/Exclusive) of a rule or of its property shapes become
  SELECTs that follow pyshacl's semantics (e.g. a value that cannot be compared fails).

Anything else (sh:or, sh:node, $shapesGraph, LIMIT, ...) and whatever pyshacl itself refuses
(MINUS, VALUES, SERVICE, a sub-SELECT without $this) is refused with a `CompileError` naming the
shape, so a new shape never silently escapes the fast engine.

Rules that relate claims to each other must do so through the patient (`cg:patientId`): the fast
engine runs such checks (`Check.cross_claim`) on all of a patient's claims together.
`lateral_exists` is an Oxigraph-only rewriting for speed (same solutions); the standard queries
are what a SPARQL server gets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from ..errors import InternalError
from ..namespaces import SH
from .common import template_vars

SEVERITY_NAMES = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}
OWL_CLASS = URIRef("http://www.w3.org/2002/07/owl#Class")
DEFAULT_PREFIXES = {  # the prefixes pyshacl always declares
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": "http://www.w3.org/2002/07/owl#",
}
# Constraint parameters this compiler understands; any other sh: parameter is refused.
CORE_PARAMETERS = {
    SH.minCount, SH.maxCount, SH.datatype, SH["class"], SH.nodeKind, SH["in"], SH.hasValue,
    SH.pattern, SH.flags, SH.minLength, SH.maxLength, SH.minInclusive, SH.maxInclusive,
    SH.minExclusive, SH.maxExclusive,
}  # fmt: skip
# Shape properties that are not constraints (metadata, targets, structure).
NON_CONSTRAINTS = {
    SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.property,
    SH.sparql, SH.severity, SH.message, SH.name, SH.description, SH.path, SH.order, SH.group,
    SH.deactivated, SH.defaultValue, SH.prefixes, SH.declare,
}  # fmt: skip


class CompileError(InternalError):
    """A shape uses something the fast engine cannot compile (a defect of the shapes)."""


@dataclass(frozen=True)
class Check:
    """One compiled constraint: its query returns `?this` for every failing focus node."""

    rule: str  # IRI of the targeted node shape (the rule, or a named part of one)
    shape: str | None  # the shape pyshacl names as sh:sourceShape (None: a blank node)
    severity: str  # "violation" | "warning" | "info", as pyshacl reports it
    component: str  # "sparql", "minCount", ...
    query: str
    project: tuple[str, ...] = ()  # message-template variables the query returns after ?this

    @property
    def cross_claim(self) -> bool:
        """Whether the check relates claims to each other, which it may do only through the
        patient (cg:patientId): the fast engine then runs it on all of a patient's claims."""
        return bool(_PATIENT.search(self.query))


# --------------------------------------------------------------------------------------------
# SPARQL text: a small tokenizer, enough to find variables, groups and SELECTs reliably.

_TOKEN = re.compile(
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
_PATIENT = re.compile(r"patientId\b")
_AGGREGATES = {"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"}
_REFUSED = {"MINUS", "VALUES", "SERVICE"}  # refused by SHACL-SPARQL (and pyshacl)


@dataclass
class _Tok:
    kind: str
    text: str
    start: int  # offset in the query text

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def _tokens(text: str) -> list[_Tok]:
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind not in ("ws", "comment"):
            out.append(_Tok(kind, m.group(), m.start()))
    return out


def _is_this(tok: _Tok) -> bool:
    return tok.kind == "var" and tok.text[1:] == "this"


@dataclass
class _Select:
    """A SELECT (the query or a sub-SELECT), by token positions."""

    start: int  # index of the SELECT keyword
    where: int  # index of its '{'
    end: int  # index of its closing '}'
    stop: int  # index after its solution modifiers


def _match_braces(toks: list[_Tok]) -> dict[int, int]:
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


def _selects(toks: list[_Tok], pairs: dict[int, int]) -> list[_Select]:
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
        out.append(_Select(i, j, end, stop))
    return out


def _has_this(toks: list[_Tok], a: int, b: int) -> bool:
    return any(_is_this(t) for t in toks[a:b])


def _needs_target(toks: list[_Tok], open_: int, pairs: dict[int, int]) -> bool:
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
                _filter_end(toks, i, pairs)
                if t.upper == "FILTER"
                else _span_end(toks, i + 1, pairs)
            )
            for k in range(i, end):
                if _is_this(toks[k]) and not _inside_group(k, i, end, pairs):
                    in_filter |= t.upper == "FILTER"
                    in_bind |= t.upper == "BIND"
            i = end
            continue
        in_triple |= _is_this(t)
        i += 1
    if in_triple:
        return False
    if before == "OPTIONAL":
        return in_bind
    return in_filter or in_bind


def _inside_group(k: int, a: int, b: int, pairs: dict[int, int]) -> bool:
    """Whether token k lies in a {...} group that opens between a and b (an EXISTS group)."""
    return any(a <= o < k < c for o, c in pairs.items() if o < b)


def rewrite_sparql(
    select: str, shape: str, target: str, prefixes: dict[str, str], project: tuple[str, ...] = ()
) -> str:
    """The pyshacl-equivalent all-focus-nodes query of one `sh:select` (see module doc);
    `project`: variables of the message template, returned beside ?this."""
    toks = _tokens(select)
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
    pairs = _match_braces(toks)
    selects = _selects(toks, pairs)
    if any(t.upper in ("FROM", "NAMED") for t in toks[: selects[0].where]):
        raise ValueError("FROM clauses are not supported")
    inserts: dict[int, list[str]] = {}  # token index -> texts to insert before it
    replace: dict[int, str] = {}
    for sel in selects:
        correlated = sel is selects[0] or _has_this(toks, sel.where, sel.end)
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
            if t.upper == "AS" and k + 1 < len(head) and _is_this(head[k + 1]):
                raise ValueError("cannot rebind $this with AS")
        if not any(_is_this(t) for t in head) and "*" not in [t.text for t in head]:
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
                if not any(_is_this(t) for t in keys):
                    inserts.setdefault(by, []).append("?this")
            else:
                inserts.setdefault(sel.end + 1, []).append("GROUP BY ?this")
    # Join the target where ?this could otherwise be unbound (see _needs_target).
    sub_wheres = {sel.where for sel in selects[1:] if _has_this(toks, sel.where, sel.end)}
    for open_ in pairs:
        if toks[open_ + 1].upper == "SELECT":  # `{ SELECT ... }` holds a sub-SELECT
            continue
        if open_ == selects[0].where or open_ in sub_wheres or _needs_target(toks, open_, pairs):
            inserts.setdefault(open_ + 1, []).append(target)
    for i, t in enumerate(toks):
        if _is_this(t):
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


# --------------------------------------------------------------------------------------------
# Shapes graph -> checks


def _lit(node: Node) -> str:
    """A term as SPARQL text."""
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, Literal):
        return node.n3()
    raise ValueError("blank nodes cannot be used as constraint values")


def _path(sg: Graph, p: Node) -> str:
    """A SHACL property path as a SPARQL property path."""
    if isinstance(p, URIRef):
        return f"<{p}>"
    if (p, RDF.first, None) in sg:
        return "(" + "/".join(_path(sg, x) for x in Collection(sg, p)) + ")"
    for pred, fmt in (
        (SH.inversePath, "^({})"),
        (SH.zeroOrMorePath, "({})*"),
        (SH.oneOrMorePath, "({})+"),
        (SH.zeroOrOnePath, "({})?"),
    ):
        inner = sg.value(p, pred)
        if inner is not None:
            return fmt.format(_path(sg, inner))
    alt = sg.value(p, SH.alternativePath)
    if alt is not None:
        return "(" + "|".join(_path(sg, x) for x in Collection(sg, alt)) + ")"
    raise ValueError("unsupported sh:path")


_LEXICAL: dict[
    Node, str
] = {  # well-formed lexical forms (pyshacl reports ill-typed literals for sh:datatype)
    XSD.integer: r"^[+-]?[0-9]+$",
    XSD.decimal: r"^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$",
    XSD.boolean: r"^(true|false|1|0)$",
    XSD.date: r"^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(Z|[+-][0-9]{2}:[0-9]{2})?$",
}


def _datatype_ok(dt: Node) -> str:
    if dt == RDFS.Literal:
        return "isLiteral(?v)"
    if dt == RDFS.Datatype:
        return "(isLiteral(?v) && datatype(?v) != rdf:langString)"
    cond = f"(isLiteral(?v) && datatype(?v) = {_lit(dt)}"
    if dt in _LEXICAL:
        cond += f' && REGEX(STR(?v), "{_LEXICAL[dt]}")'
        if dt == XSD.date:  # also a real calendar date (2026-02-30 is ill-typed)
            cond += " && COALESCE(BOUND(?v) && xsd:date(STR(?v)) = ?v, false)"
    return cond + ")"


def _range_ok(op: str, bound: Literal) -> str:
    """pyshacl: passes only for a literal comparable with the bound (strings with strings)."""
    if isinstance(bound.value, str):
        kind = "(isLiteral(?v) && (datatype(?v) = xsd:string || datatype(?v) = rdf:langString))"
    elif bound.datatype in (XSD.date, XSD.dateTime):
        kind = f"(isLiteral(?v) && datatype(?v) = {_lit(bound.datatype)})"
    else:
        kind = "isNumeric(?v)"
    return f"({kind} && COALESCE(?v {op} {_lit(bound)}, false))"


def _value_ok(sg: Graph, param: Node, value: Node, shape: Node) -> str | None:
    """A SPARQL condition on ?v that holds when the value node passes one value constraint."""
    if param == SH.datatype:
        return _datatype_ok(value)
    if param == SH["class"]:
        return f"(!isLiteral(?v) && EXISTS {{ ?v rdf:type/rdfs:subClassOf* {_lit(value)} }})"
    if param == SH.nodeKind:
        kinds = {
            SH.IRI: "isIRI(?v)", SH.BlankNode: "isBlank(?v)", SH.Literal: "isLiteral(?v)",
            SH.BlankNodeOrIRI: "!isLiteral(?v)", SH.BlankNodeOrLiteral: "!isIRI(?v)",
            SH.IRIOrLiteral: "!isBlank(?v)",
        }  # fmt: skip
        return kinds[value]  # type: ignore[index]
    if param == SH["in"]:
        members = list(Collection(sg, value))
        return (
            "(" + " || ".join(f"sameTerm(?v, {_lit(m)})" for m in members) + ")"
            if members
            else "false"
        )
    if param == SH.pattern:
        flags = sg.value(shape, SH.flags)
        pat = Literal(str(value)).n3()
        f = f", {Literal(str(flags)).n3()}" if flags else ""
        return f"(!isBlank(?v) && REGEX(STR(?v), {pat}{f}))"
    if param in (SH.minLength, SH.maxLength):
        op = ">=" if param == SH.minLength else "<="
        return f"(!isBlank(?v) && STRLEN(STR(?v)) {op} {int(value)})"  # type: ignore[call-overload]
    ops: dict[Node, str] = {
        SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"
    }  # fmt: skip
    if param in ops:
        if not isinstance(value, Literal):
            raise ValueError(f"{param} needs a literal")
        return _range_ok(ops[param], value)
    return None


def _prefixes(sg: Graph, sparql_node: Node) -> dict[str, str]:
    """pyshacl's prefix collection: rdf/rdfs/owl plus the sh:declare of each sh:prefixes."""
    out = dict(DEFAULT_PREFIXES)
    onts = set(sg.subjects(RDF.type, URIRef("http://www.w3.org/2002/07/owl#Ontology")))
    global_declares = {d for o in onts for d in sg.objects(o, SH.declare)}
    for pv in sg.objects(sparql_node, SH.prefixes):
        own = set(sg.objects(pv, SH.declare))
        declares = own if own and pv in onts else global_declares | own
        for d in declares:
            prefix, ns = sg.value(d, SH.prefix), sg.value(d, SH.namespace)
            if prefix is None or ns is None:
                raise ValueError("sh:declare needs sh:prefix and sh:namespace")
            out[str(prefix)] = str(ns)
    return out


def _target(kg: Graph, sg: Graph, shape: Node) -> str:
    """The target of a shape as a pattern binding ?this (subclasses resolved from the KG)."""
    branches = []
    for cls in sg.objects(shape, SH.targetClass):
        closure = sorted(
            {str(c) for c in kg.transitive_subjects(RDFS.subClassOf, cls)} | {str(cls)}
        )
        branches += [f"{{ ?this rdf:type <{c}> }}" for c in closure]
    for node in sg.objects(shape, SH.targetNode):
        branches.append(f"{{ BIND({_lit(node)} AS ?this) }}")
    for p in sg.objects(shape, SH.targetSubjectsOf):
        branches.append(f"{{ ?this <{p}> [] }}")
    for p in sg.objects(shape, SH.targetObjectsOf):
        branches.append(f"{{ [] <{p}> ?this }}")
    if not branches:
        raise ValueError("no target")
    if len(branches) == 1 and branches[0].startswith("{ ?this rdf:type"):
        return branches[0][2:-2] + " ."
    return " UNION ".join(branches) + " ."


def _severity(sg: Graph, shape: Node) -> str:
    sev = sg.value(shape, SH.severity, default=SH.Violation)
    if sev not in SEVERITY_NAMES:
        raise ValueError("sh:severity must be sh:Violation, sh:Warning or sh:Info")
    return SEVERITY_NAMES[sev]  # type: ignore[index]


def _deactivated(sg: Graph, node: Node) -> bool:
    value = sg.value(node, SH.deactivated)
    return isinstance(value, Literal) and value.value is True


_PREFIX_HEAD = f"PREFIX rdf: <{str(RDF)}>\nPREFIX rdfs: <{str(RDFS)}>\nPREFIX xsd: <{str(XSD)}>\n"


def _core_checks(sg: Graph, rule: URIRef, shape: Node, target: str) -> Iterator[Check]:
    """The core constraints of `shape` (the rule itself, or one of its property shapes)."""
    path_node = sg.value(shape, SH.path)
    severity = _severity(sg, shape)
    values = "BIND(?this AS ?v)" if path_node is None else f"?this {_path(sg, path_node)} ?v ."
    for param, value in sorted(
        sg.predicate_objects(shape), key=lambda po: (str(po[0]), str(po[1]))
    ):
        if param in NON_CONSTRAINTS or param == SH.flags or not str(param).startswith(str(SH)):
            continue
        if param not in CORE_PARAMETERS:
            raise ValueError(f"unsupported constraint {param}")
        name = str(param)[len(str(SH)) :]
        if param in (SH.minCount, SH.maxCount):
            if path_node is None:
                raise ValueError(f"sh:{name} needs sh:path")
            n = int(value)  # type: ignore[call-overload]
            if param == SH.minCount and n <= 0:
                continue
            if param == SH.minCount and n == 1:
                where = f"{target} FILTER NOT EXISTS {{ {values} }}"
            elif param == SH.minCount:
                where = (
                    f"{{ SELECT ?this (COUNT(DISTINCT ?v) AS ?n) WHERE {{ {target} "
                    f"OPTIONAL {{ {values} }} }} GROUP BY ?this }} FILTER (?n < {n})"
                )
            else:
                where = (
                    f"{{ SELECT ?this (COUNT(DISTINCT ?v) AS ?n) WHERE {{ {target} {values} }} "
                    f"GROUP BY ?this }} FILTER (?n > {n})"
                )
        elif param == SH.hasValue:
            if path_node is None:
                where = f"{target} FILTER (!sameTerm(?this, {_lit(value)}))"
            else:
                where = (
                    f"{target} FILTER NOT EXISTS {{ {values} FILTER sameTerm(?v, {_lit(value)}) }}"
                )
        else:
            ok = _value_ok(sg, param, value, shape)
            where = f"{target} {values} FILTER (!COALESCE({ok}, false))"
        query = f"{_PREFIX_HEAD}SELECT DISTINCT ?this WHERE {{ {where} }}"
        source = str(shape) if isinstance(shape, URIRef) else None
        yield Check(str(rule), source, severity, name, query)


def rule_shapes(sg: Graph) -> list[URIRef]:
    """Every shape pyshacl validates directly: node shapes with a target."""
    targets = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
    shapes = {s for t in targets for s in sg.subjects(t, None)}
    for s in shapes:
        if not isinstance(s, URIRef):
            raise CompileError("a targeted shape must be named (an IRI), not a blank node")
    for cls in (RDFS.Class, OWL_CLASS):
        for s in sg.subjects(RDF.type, cls):
            if (s, RDF.type, SH.NodeShape) in sg:
                raise CompileError(f"{s}: implicit class targets are not supported")
    return sorted(shapes)  # type: ignore[arg-type]


def _pyshacl_accepts(select: str) -> None:
    """pyshacl's own checks of a SPARQL constraint (it refuses MINUS, VALUES, SERVICE, ...)."""
    from pyshacl.errors import ValidationFailure
    from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper

    try:
        SPARQLQueryHelper(None, None, select).check_invalid_sparql(select)
    except ValidationFailure as e:
        raise ValueError(f"pyshacl refuses it: {' '.join(str(e.args[0]).split())}") from None


def compile_shape(kg: Graph, sg: Graph, shape: URIRef) -> list[Check]:
    """The checks of one rule shape; CompileError when it uses anything unsupported."""
    try:
        if _deactivated(sg, shape):
            return []
        if sg.value(shape, SH.path) is not None:
            raise ValueError("a targeted property shape is not supported; target a node shape")
        target = _target(kg, sg, shape)
        checks = list(_core_checks(sg, shape, shape, target))
        for ps in sorted(sg.objects(shape, SH.property), key=str):
            if _deactivated(sg, ps):
                continue
            if sg.value(ps, SH.path) is None:
                raise ValueError("a property shape without sh:path")
            if (ps, SH.sparql, None) in sg or (ps, SH.property, None) in sg:
                raise ValueError("sh:sparql or sh:property inside a property shape")
            checks.extend(_core_checks(sg, shape, ps, target))
        severity = _severity(sg, shape)
        for sp in sorted(sg.objects(shape, SH.sparql), key=str):
            if _deactivated(sg, sp):
                continue
            selects = list(sg.objects(sp, SH.select))
            if len(selects) != 1:
                raise ValueError("sh:sparql needs exactly one sh:select")
            _pyshacl_accepts(str(selects[0]))
            message = sg.value(sp, SH.message) or sg.value(shape, SH.message)
            project = template_vars(str(message)) if message is not None else ()
            if "this" in project:
                raise ValueError("a message template may not substitute $this")
            query = rewrite_sparql(
                str(selects[0]), str(shape), target, _prefixes(sg, sp), project
            )
            checks.append(Check(str(shape), str(shape), severity, "sparql", query, project))
        return checks
    except (ValueError, KeyError) as e:
        raise CompileError(f"cannot compile shape {shape}: {e}") from None


def compile_shapes(kg: Graph, sg: Graph) -> list[Check]:
    """All checks of the shapes graph `sg`; `kg` (ontology + shapes) resolves subclasses."""
    return [c for shape in rule_shapes(sg) for c in compile_shape(kg, sg, shape)]


def validate_queries(checks: Iterable[Check]) -> None:
    """Parse every compiled query with Oxigraph: a compile defect shows up at compile time."""
    from pyoxigraph import Store

    store = Store()
    for c in checks:
        try:
            store.query(c.query)
        except SyntaxError as e:
            raise CompileError(
                f"compiled query of {c.rule} ({c.component}) does not parse: {e}"
            ) from None


# --------------------------------------------------------------------------------------------
# Oxigraph-specific rewriting (fast engine only; the endpoint runs the standard queries).
#
# Oxigraph evaluates the group of a FILTER (NOT) EXISTS once per row with hash joins whose
# sides do not see each other's bindings: `?claim cg:hasDocument ?doc . ?doc cg:documentType ?t`
# scans every document for every row, so cost grows with the batch squared. Inside EXISTS
# groups made of triple patterns and FILTERs only, the patterns are reordered (bound ones first)
# and nested with LATERAL (SEP-0006), which Oxigraph evaluates with the bindings of the left
# side: the same solutions (a join), found by index lookups. Anything else is left unchanged.

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


def _span_end(toks: list[_Tok], i: int, pairs: dict[int, int]) -> int:
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


def _filter_end(toks: list[_Tok], i: int, pairs: dict[int, int]) -> int:
    """Index after `FILTER <constraint>` starting at token i (the FILTER keyword)."""
    j = i + 1
    if toks[j].upper == "NOT":
        j += 1
    if toks[j].upper == "EXISTS":
        return _span_end(toks, j + 1, pairs)
    if toks[j].kind == "word":  # a function call: name(...)
        j += 1
    return _span_end(toks, j, pairs)


def _triples(stmt: list[_Tok]) -> list[list[_Tok]] | None:
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


def _split(toks: list[_Tok], sep: str) -> list[list[_Tok]]:
    parts: list[list[_Tok]] = [[]]
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


def _object_len(toks: list[_Tok]) -> int | None:
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


def _vars(toks: Iterable[_Tok]) -> set[str]:
    return {t.text[1:] for t in toks if t.kind == "var"}


def _bound_score(p: list[_Tok], bound: set[str]) -> int:
    """How selective a pattern is once `bound` are known: subject bound 2, object bound 1."""
    s, o = p[0], p[-1]
    return 2 * (s.kind != "var" or s.text[1:] in bound) + (o.kind != "var" or o.text[1:] in bound)


def lateral_exists(query: str) -> str:
    """`query` with its simple EXISTS groups nested with LATERAL (see above)."""
    toks = _tokens(query)
    pairs = _match_braces(toks)

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

    def span(p: list[_Tok]) -> str:
        return " ".join(t.text if t.kind != "other" else t.text for t in p)

    def group(open_: int) -> str:
        close = pairs[open_]
        stmts: list[list[_Tok]] = [[]]
        filters: list[tuple[int, int]] = []
        i = open_ + 1
        while i < close:
            t = toks[i]
            if t.upper in _NOT_SIMPLE or (t.kind == "other" and t.text in "{}"):
                return "{ " + text(open_ + 1, close) + " }"
            if t.upper == "FILTER":
                end = _filter_end(toks, i, pairs)
                filters.append((i, end))
                i = end
                continue
            if t.kind == "other" and t.text == ".":
                stmts.append([])
            else:
                stmts[-1].append(t)
            i += 1
        patterns: list[list[_Tok]] = []
        for stmt in stmts:
            if not stmt:
                continue
            found = _triples(stmt)
            if found is None:
                return "{ " + text(open_ + 1, close) + " }"
            patterns.extend(found)
        if len(patterns) < 2:
            return "{ " + text(open_ + 1, close) + " }"
        outer = _vars(toks[:open_]) | _vars(toks[close + 1 :])
        bound, ordered = set(outer), []
        rest = list(patterns)
        while rest:
            best = max(range(len(rest)), key=lambda k: (_bound_score(rest[k], bound), -k))
            p = rest.pop(best)
            ordered.append(p)
            bound |= _vars(p)
        body = " ".join(t.text for t in ordered[-1])
        for p in reversed(ordered[:-1]):
            body = " ".join(t.text for t in p) + " LATERAL { " + body + " }"
        filt = " ".join(text(a, b) for a, b in filters)
        return "{ " + body + " " + filt + " }"

    return text(0, len(toks))
