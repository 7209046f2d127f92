"""Loading the bundled knowledge graph: ontology (model and facts) and shapes (the rules).

The rules are part of the knowledge graph: queries such as "rules that apply to a code" read
them, and the SPARQL-based shapes read their own scope, dates and thresholds from it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from rdflib import Graph

from .errors import InputError
from .namespaces import PREFIXES
from .resources import turtle_files


def new_graph() -> Graph:
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True)
    return g


def parse_turtle(graph: Graph, path: Path) -> None:
    """Parse one bundled Turtle file; a syntax error names the file (and line when known)."""
    try:
        graph.parse(path, format="turtle")
    except Exception as e:  # rdflib raises several types for syntax errors
        line = getattr(e, "lines", None) or getattr(e, "line", None)
        raise InputError(
            f"invalid Turtle ({type(e).__name__})", path=str(path), position=str(line) if line else None
        ) from None


@cache
def ontology_graph() -> Graph:
    """ontology/**/*.ttl: the model and the curated facts."""
    g = new_graph()
    for path in turtle_files("ontology"):
        parse_turtle(g, path)
    return g


@cache
def shapes_graph() -> Graph:
    """shapes/*.ttl (without shapes/meta/): the rules."""
    g = new_graph()
    for path in turtle_files("shapes"):
        parse_turtle(g, path)
    return g


@cache
def knowledge_graph() -> Graph:
    """Ontology and shapes together: what queries and the code card read. Do not modify."""
    g = new_graph()
    for t in ontology_graph():
        g.add(t)
    for t in shapes_graph():
        g.add(t)
    return g
