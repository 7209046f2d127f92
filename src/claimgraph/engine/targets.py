"""The target of a rule shape as a SPARQL pattern that binds `?this`.

- `sh:targetClass` (subclasses resolved from the knowledge graph), `sh:targetNode`,
  `sh:targetSubjectsOf`, `sh:targetObjectsOf`: as SHACL defines them;
- `sh:target`: SHACL-AF SPARQL-based targets, inline (`sh:select`) or of a
  `sh:SPARQLTargetType` whose parameters are substituted as constants, become a sub-SELECT;
- `sh:target [ a cg:ScopedLines ; cg:scopeOf S ]` (shapes/scope.ttl, the rules' scope) is
  compiled from S's scope data, read at compile time: one sub-SELECT of the lines in scope,
  evaluated once per batch, in which only the conditions S has appear; its payer categories
  become the VALUES of the payers they hold and its effective dates constant filters, while
  its codes and modifiers join S's own lists. The generic form of the target type's SPARQL
  (NOT EXISTS over S's data for every line) is 3x slower on Oxigraph. It selects the same
  lines as the target type's own SPARQL, which pyshacl runs (the parity tests hold the two
  together).

`Target.pattern` binds ?this in the query's own group; `Target.nested` in a nested group that
needs ?this bound itself (a sub-SELECT, a UNION branch): the query's group has already
restricted ?this to the target there, so the class is enough.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.term import Node

from ..namespaces import CG, SH
from .core import term
from .rewrite import prefixes_of
from .sparqltext import tokens

_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)


@dataclass(frozen=True)
class Target:
    pattern: str  # binds ?this to the focus nodes
    nested: str  # binds ?this where the enclosing group has already restricted it


def targeted_shapes(sg: Graph) -> set[Node]:
    return {s for p in _TARGETS for s in sg.subjects(p, None)}


def shape_target(kg: Graph, sg: Graph, shape: Node) -> Target:
    """The target of `shape` (shapes graph `sg`; `kg`: ontology + shapes, for subclasses and
    scope data)."""
    branches: list[Target] = []
    for cls in sg.objects(shape, SH.targetClass):
        branches.append(_class(kg, cls))
    for node in sg.objects(shape, SH.targetNode):
        p = f"{{ BIND({term(node)} AS ?this) }}"
        branches.append(Target(p, p))
    for prop in sg.objects(shape, SH.targetSubjectsOf):
        p = f"{{ ?this {term(prop)} [] }}"
        branches.append(Target(p, p))
    for prop in sg.objects(shape, SH.targetObjectsOf):
        p = f"{{ [] {term(prop)} ?this }}"
        branches.append(Target(p, p))
    for node in sorted(sg.objects(shape, SH.target), key=str):
        branches.append(_custom(kg, sg, node))
    if not branches:
        raise ValueError("no target")
    if len(branches) == 1:
        return branches[0]
    return Target(
        " UNION ".join(_group(b.pattern) for b in branches) + " .",
        " UNION ".join(_group(b.nested) for b in branches) + " .",
    )


def _group(pattern: str) -> str:
    return pattern if pattern.startswith("{") else f"{{ {pattern} }}"


def _class(kg: Graph, cls: Node) -> Target:
    closure = sorted({str(c) for c in kg.transitive_subjects(RDFS.subClassOf, cls)} | {str(cls)})
    if len(closure) == 1:
        p = f"?this rdf:type <{closure[0]}> ."
    else:
        p = " UNION ".join(f"{{ ?this rdf:type <{c}> }}" for c in closure) + " ."
    return Target(p, p)


# --------------------------------------------------------------------------------------------
# SHACL-AF SPARQL-based targets


def _custom(kg: Graph, sg: Graph, node: Node) -> Target:
    types = set(sg.objects(node, RDF.type))
    if CG.ScopedLines in types:
        scope = sg.value(node, CG.scopeOf)
        if not isinstance(scope, URIRef):
            raise ValueError("a cg:ScopedLines target needs cg:scopeOf, the shape's IRI")
        return scoped_lines(kg, scope)
    select = sg.value(node, SH.select)
    if select is not None or SH.SPARQLTarget in types:
        if select is None:
            raise ValueError("a sh:SPARQLTarget needs sh:select")
        p = _sparql_target(sg, str(select), node, {})
        return Target(p, p)
    for t in sorted(types, key=str):
        if (t, RDF.type, SH.SPARQLTargetType) in sg:
            text = sg.value(t, SH.select)
            if text is None:
                raise ValueError(f"target type {t} has no sh:select")
            params: dict[str, Node] = {}
            for param in sg.objects(t, SH.parameter):
                path = sg.value(param, SH.path)
                value = sg.value(node, path) if isinstance(path, URIRef) else None
                if value is None:
                    if (param, SH.optional, Literal(True)) in sg:
                        continue
                    raise ValueError(f"the target lacks the parameter {path}")
                params[str(path).rsplit("/", 1)[-1].rsplit("#", 1)[-1]] = value
            p = _sparql_target(sg, str(text), t, params)
            return Target(p, p)
    raise ValueError("an sh:target that is not a SPARQL-based target")


def _sparql_target(sg: Graph, select: str, holder: Node, params: dict[str, Node]) -> str:
    """A target's SELECT as a sub-SELECT binding ?this: prefixed names expanded (a sub-SELECT
    cannot declare prefixes), parameters replaced by their values."""
    declared = prefixes_of(sg, holder)
    toks = tokens(select)
    first = next((i for i, t in enumerate(toks) if t.upper == "SELECT"), None)
    if first is None:
        raise ValueError("a SPARQL-based target must be a SELECT query")
    for t in toks[:first]:  # PREFIX declarations of the query itself
        if t.upper == "BASE":
            raise ValueError("BASE is not supported in a target")
    local: dict[str, str] = {}
    i = 0
    while i < first:
        if toks[i].upper == "PREFIX" and i + 2 < first:
            local[toks[i + 1].text.rstrip(":")] = toks[i + 2].text[1:-1]
            i += 3
        else:
            i += 1
    names = {**declared, **local}
    parts, pos = [], toks[first].start
    for t in toks[first:]:
        parts.append(select[pos : t.start])
        text = t.text
        if t.kind == "var" and text[1:] in params:
            text = term(params[text[1:]])
        elif t.kind == "word" and ":" in text and not text.startswith("_:"):
            prefix, _, rest = text.partition(":")
            if prefix in names:
                text = f"<{names[prefix]}{rest}>"
        parts.append(text)
        pos = t.start + len(t.text)
    return "{ " + "".join(parts) + " }"


# --------------------------------------------------------------------------------------------
# cg:ScopedLines, from the scope data


def _in_categories(kg: Graph, categories: Iterable[Node]) -> list[str]:
    """Every payer `?payer cg:inCategory* ?category` holds for: the categories themselves
    (the zero-length path) and the payers in them, directly or not."""
    found: set[Node] = set()
    for c in categories:
        found.update(p for p in kg.transitive_subjects(CG.inCategory, c) if p is not None)
        found.add(c)
    return sorted(term(p) for p in found)


def scoped_lines(kg: Graph, scope: URIRef) -> Target:
    """The claim lines in the scope of the shape `scope` (the semantics of shapes/scope.ttl)."""
    lines = _class(kg, CG.ClaimLine)
    codes = (scope, CG.appliesToCode, None) in kg
    modifiers = (scope, CG.appliesToModifier, None) in kg
    payers = list(kg.objects(scope, CG.appliesToPayer))
    excluded = list(kg.objects(scope, CG.excludesPayer))
    starts = sorted(term(d) for d in kg.objects(scope, CG.effectiveFrom))
    ends = sorted(term(d) for d in kg.objects(scope, CG.effectiveUntil))
    if not (codes or modifiers or payers or excluded or starts or ends):
        return lines
    cg, date = str(CG), term(XSD.date)
    parts = []
    # Codes and modifiers join the shape's own lists (in the knowledge graph of every batch):
    # as VALUES, Oxigraph takes the scope for a handful of rows and evaluates a later OPTIONAL
    # as a nested loop over every document (NMR-04: 20 ms -> 1.5 s per batch of 3,000 claims).
    if codes:  # first: the index finds the lines of these codes
        parts.append(
            f"<{scope}> <{cg}appliesToCode> ?scopeCode . ?this <{cg}procedureCode> ?scopeCode ."
        )
    parts.append(lines.pattern)
    if modifiers:
        parts.append(
            f"<{scope}> <{cg}appliesToModifier> ?scopeModifier . "
            f"?this <{cg}modifier> ?scopeModifier ."
        )
    if payers:
        parts.append(
            f"?scopeClaim <{cg}hasLine> ?this ; <{cg}payer> ?scopePayer . "
            f"VALUES ?scopePayer {{ {' '.join(_in_categories(kg, payers))} }}"
        )
    if excluded:
        parts.append(
            f"OPTIONAL {{ ?scopeOther <{cg}hasLine> ?this ; <{cg}payer> ?scopeExcluded . "
            f"FILTER (?scopeExcluded IN ({', '.join(_in_categories(kg, excluded))})) }} "
            "FILTER (!BOUND(?scopeExcluded))"
        )
    for var, bounds, op in (("scopeStart", starts, ">="), ("scopeEnd", ends, "<=")):
        if bounds:
            any_bound = " || ".join(f"?{var} {op} {b}" for b in bounds)
            parts.append(
                f"?this <{cg}serviceDate> ?{var} . "
                f"FILTER (datatype(?{var}) = {date} && ({any_bound}))"
            )
    return Target("{ SELECT DISTINCT ?this WHERE { " + " ".join(parts) + " } }", lines.nested)
