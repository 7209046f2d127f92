"""Compile the SHACL shapes to SPARQL SELECTs that return the failing focus nodes.

The shapes stay the single source of truth: each check is derived from a shape, never written
by hand. A check is one query `SELECT DISTINCT ?this WHERE { ... }` over claims + knowledge graph
that returns every focus node pyshacl would report for that shape and constraint:

- the shape's target binds ?this (targets.py: SHACL targets, SHACL-AF SPARQL-based targets and
  the rules' scope, `cg:ScopedLines`, compiled from the scope data);
- `sh:sparql` constraints are rewritten to evaluate all focus nodes at once (rewrite.py);
- SHACL core constraints (min/maxCount, datatype, class, ...) of a rule or of its property
  shapes become SELECTs with pyshacl's semantics (core.py).

Anything else (sh:or, sh:node, $shapesGraph, LIMIT, ...) and whatever pyshacl itself refuses
(MINUS, VALUES, SERVICE, a sub-SELECT without $this) is refused with a `CompileError` naming the
shape, so a new shape never silently escapes the fast engine.

Rules that relate claims to each other must do so through the patient (`cg:patientId`): the fast
engine runs such checks (`Check.cross_claim`) on all of a patient's claims together.
`oxigraph.lateral_exists` is an Oxigraph-only rewriting for speed (same solutions); the
standard queries are what a SPARQL server gets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.term import Node

from ..errors import InternalError
from ..namespaces import SH
from .common import SEVERITY_NAMES, template_vars
from .core import core_checks
from .rewrite import prefixes_of, rewrite_sparql
from .targets import shape_target, targeted_shapes

OWL_CLASS = URIRef("http://www.w3.org/2002/07/owl#Class")
_PATIENT = re.compile(r"patientId\b")


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


def severity_of(sg: Graph, shape: Node) -> str:
    sev = sg.value(shape, SH.severity, default=SH.Violation)
    if sev not in SEVERITY_NAMES:
        raise ValueError("sh:severity must be sh:Violation, sh:Warning or sh:Info")
    return SEVERITY_NAMES[sev]  # type: ignore[index]


def _deactivated(sg: Graph, node: Node) -> bool:
    value = sg.value(node, SH.deactivated)
    return isinstance(value, Literal) and value.value is True


def rule_shapes(sg: Graph) -> list[URIRef]:
    """Every shape pyshacl validates directly: node shapes with a target."""
    shapes = targeted_shapes(sg)
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
        target = shape_target(kg, sg, shape)
        severity = severity_of(sg, shape)
        checks = [
            Check(str(shape), source, severity, name, query)
            for source, name, query in core_checks(sg, shape, target.pattern, severity)
        ]
        for ps in sorted(sg.objects(shape, SH.property), key=str):
            if _deactivated(sg, ps):
                continue
            if sg.value(ps, SH.path) is None:
                raise ValueError("a property shape without sh:path")
            if (ps, SH.sparql, None) in sg or (ps, SH.property, None) in sg:
                raise ValueError("sh:sparql or sh:property inside a property shape")
            ps_severity = severity_of(sg, ps)
            checks.extend(
                Check(str(shape), source, ps_severity, name, query)
                for source, name, query in core_checks(sg, ps, target.pattern, ps_severity)
            )
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
                str(selects[0]), str(shape), target.pattern, prefixes_of(sg, sp), project,
                nested=target.nested,
            )  # fmt: skip
            checks.append(Check(str(shape), str(shape), severity, "sparql", query, project))
        return checks
    except (ValueError, KeyError) as e:
        raise CompileError(f"cannot compile shape {shape}: {e}") from None


def compile_shapes(kg: Graph, sg: Graph) -> list[Check]:
    """All checks of the shapes graph `sg`; `kg` (ontology + shapes) resolves subclasses and
    holds the scope data the targets read."""
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
