"""SHACL core constraints as SPARQL: a SELECT per constraint that returns the focus nodes
pyshacl reports (minCount, maxCount, datatype, class, nodeKind, in, hasValue, pattern,
minLength, maxLength, min/maxInclusive/Exclusive), with pyshacl's semantics (a value that
cannot be compared fails)."""

from __future__ import annotations

from collections.abc import Iterator

from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from ..namespaces import SH

CORE_PARAMETERS = {
    SH.minCount, SH.maxCount, SH.datatype, SH["class"], SH.nodeKind, SH["in"], SH.hasValue,
    SH.pattern, SH.flags, SH.minLength, SH.maxLength, SH.minInclusive, SH.maxInclusive,
    SH.minExclusive, SH.maxExclusive,
}  # fmt: skip
# Shape properties that are not constraints (metadata, targets, structure).
NON_CONSTRAINTS = {
    SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target,
    SH.property,
    SH.sparql, SH.severity, SH.message, SH.name, SH.description, SH.path, SH.order, SH.group,
    SH.deactivated, SH.defaultValue, SH.prefixes, SH.declare,
}  # fmt: skip


def term(node: Node) -> str:
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
    cond = f"(isLiteral(?v) && datatype(?v) = {term(dt)}"
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
        kind = f"(isLiteral(?v) && datatype(?v) = {term(bound.datatype)})"
    else:
        kind = "isNumeric(?v)"
    return f"({kind} && COALESCE(?v {op} {term(bound)}, false))"


def _value_ok(sg: Graph, param: Node, value: Node, shape: Node) -> str | None:
    """A SPARQL condition on ?v that holds when the value node passes one value constraint."""
    if param == SH.datatype:
        return _datatype_ok(value)
    if param == SH["class"]:
        return f"(!isLiteral(?v) && EXISTS {{ ?v rdf:type/rdfs:subClassOf* {term(value)} }})"
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
            "(" + " || ".join(f"sameTerm(?v, {term(m)})" for m in members) + ")"
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


_PREFIX_HEAD = f"PREFIX rdf: <{str(RDF)}>\nPREFIX rdfs: <{str(RDFS)}>\nPREFIX xsd: <{str(XSD)}>\n"


def core_checks(
    sg: Graph, shape: Node, target: str, severity: str
) -> Iterator[tuple[str | None, str, str]]:
    """The core constraints of `shape` (a rule, or one of its property shapes) as
    (sh:sourceShape IRI or None for a blank node, component name, query)."""
    path_node = sg.value(shape, SH.path)
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
                where = f"{target} FILTER (!sameTerm(?this, {term(value)}))"
            else:
                where = (
                    f"{target} FILTER NOT EXISTS {{ {values} FILTER sameTerm(?v, {term(value)}) }}"
                )
        else:
            ok = _value_ok(sg, param, value, shape)
            where = f"{target} {values} FILTER (!COALESCE({ok}, false))"
        query = f"{_PREFIX_HEAD}SELECT DISTINCT ?this WHERE {{ {where} }}"
        yield (str(shape) if isinstance(shape, URIRef) else None), name, query
