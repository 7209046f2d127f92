"""Shapes that misbehave are refused before they run.

pyshacl warns about a recursive shape and then reports `conforms: true`; a broken `sh:pattern`
or SPARQL text surfaces as re.error, a pyparsing error or a bare Exception in the middle of a
validation; a SPARQL constraint may ask for SERVICE (pyoxigraph would send it, from Rust, where
no Python audit hook sees it). `check_shapes` refuses all of these with one `ShapesError`:

- recursion: a shape reachable from itself through sh:node, sh:property, sh:not,
  sh:qualifiedValueShape or the members of sh:and / sh:or / sh:xone;
- every sh:pattern (with its sh:flags) compiles as a regular expression;
- every sh:select / sh:ask / sh:construct parses, with the prefixes its sh:prefixes declare,
  and passes `query.check` (read-only, no SERVICE, no FROM / FROM NAMED).

`meta_check` validates a shapes graph against the SHACL-SHACL shapes (pyshacl's meta-SHACL);
it costs seconds, so tests run it on the shipped shapes and tools on user-supplied ones.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from .errors import ClaimgraphError

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node


class ShapesError(ClaimgraphError):
    """Shapes that cannot be used: recursive, a broken pattern or SPARQL, meta-SHACL defects."""


_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def _name(node: Node) -> str:
    from rdflib import URIRef

    from .query import compact_iri

    return f"shape {compact_iri(str(node))}" if isinstance(node, URIRef) else "a blank-node shape"


def _members(g: Graph, head: Node) -> Iterator[Node]:
    from rdflib.collection import Collection

    try:
        yield from Collection(g, head)
    except Exception:  # a malformed list: meta-SHACL reports it
        return


def shape_links(g: Graph) -> dict[Node, set[Node]]:
    """shape -> the shapes it uses (the edges a recursive shape loops through)."""
    from .namespaces import SH

    edges: dict[Node, set[Node]] = {}
    for p in (SH.node, SH.property, SH["not"], SH.qualifiedValueShape):
        for s, o in g.subject_objects(p):
            edges.setdefault(s, set()).add(o)
    for p in (SH["and"], SH["or"], SH.xone):
        for s, head in g.subject_objects(p):
            edges.setdefault(s, set()).update(_members(g, head))
    return edges


def find_cycle(g: Graph) -> list[Node] | None:
    """A list of shapes [a, b, ..., a] that refer to each other in a loop, or None."""
    edges = shape_links(g)
    state: dict[Node, int] = {}  # 1 on the current path, 2 done
    for root in sorted(edges, key=str):
        if state.get(root):
            continue
        path: list[Node] = [root]
        stack: list[Iterator[Node]] = [iter(sorted(edges.get(root, ()), key=str))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(edges.get(nxt, ()), key=str)))
    return None


def check_recursion(g: Graph) -> None:
    cycle = find_cycle(g)
    if cycle:
        raise ShapesError(
            f"{_name(cycle[0])} is recursive (it refers to itself through "
            f"{len(cycle) - 1} shape reference(s)); SHACL leaves recursive shapes undefined"
        )


def check_patterns(g: Graph) -> None:
    from .namespaces import SH

    for shape, pattern in sorted(g.subject_objects(SH.pattern), key=str):
        flags = 0
        for f in g.objects(shape, SH.flags):
            for ch in str(f):
                flags |= _FLAGS.get(ch, 0)
        try:
            re.compile(str(pattern), flags)
        except (re.error, RecursionError, OverflowError) as e:
            msg = getattr(e, "msg", type(e).__name__)
            raise ShapesError(
                f"{_name(shape)}: sh:pattern is not a valid regular expression ({msg})"
            ) from None


def _prefix_lines(g: Graph, node: Node) -> str:
    from .namespaces import SH

    lines = []
    for holder in g.objects(node, SH.prefixes):
        for decl in g.objects(holder, SH.declare):
            prefix, ns = g.value(decl, SH.prefix), g.value(decl, SH.namespace)
            if prefix is not None and ns is not None:
                lines.append(f"PREFIX {prefix}: <{ns}>\n")
    return "".join(sorted(set(lines)))


def sparql_texts(g: Graph) -> Iterable[tuple[Node, str]]:
    """(node holding it, text with its declared prefixes) of every SPARQL text in the shapes."""
    from .namespaces import SH

    for p in (SH.select, SH.ask, SH.construct):
        for node, text in sorted(g.subject_objects(p), key=str):
            yield node, _prefix_lines(g, node) + str(text)


def check_sparql(g: Graph) -> None:
    from .namespaces import SH
    from .query import check

    for node, text in sparql_texts(g):
        owner = next(iter(sorted(g.subjects(SH.sparql, node), key=str)), node)
        try:
            check(text)
        except ClaimgraphError as e:
            where = f" near {e.position}" if e.position else ""
            raise ShapesError(
                f"{_name(owner)}: its SPARQL is refused: {e.message}{where}"
            ) from None
        except RecursionError:
            raise ShapesError(f"{_name(owner)}: its SPARQL is nested too deeply") from None


def check_shapes(g: Graph) -> None:
    """Refuse recursive shapes, broken patterns and unsafe or broken SPARQL (ShapesError)."""
    check_recursion(g)
    check_patterns(g)
    check_sparql(g)


def meta_check(g: Graph) -> None:
    """Validate the shapes graph against SHACL-SHACL; ShapesError naming the first defect."""
    import pyshacl

    from .namespaces import SH
    from .privacy import quiet_libraries

    quiet_libraries()
    try:
        conforms, report, _ = pyshacl.validate(g, meta_shacl=True, shacl_graph=g, inference="none")
    except pyshacl.errors.ReportableRuntimeError as e:  # meta-SHACL itself refused the shapes
        raise ShapesError(f"the shapes do not conform to SHACL ({type(e).__name__})") from None
    if not conforms:
        focus = sorted(str(f) for f in report.objects(None, SH.focusNode))
        first = focus[0] if focus else "?"
        raise ShapesError(f"the shapes do not conform to SHACL (first defect at {first})")


@contextlib.contextmanager
def mapped_errors() -> Iterator[None]:
    """Errors of pyshacl / rdflib while evaluating shapes (re.error, pyparsing errors, bare
    Exception ...) become one ShapesError naming the type only."""
    try:
        yield
    except (ClaimgraphError, RecursionError, MemoryError):
        raise
    except Exception as e:
        raise ShapesError(
            f"the rules cannot be evaluated ({type(e).__name__}); a shape has a defect "
            "(check the shapes with meta-SHACL)"
        ) from None


def check_report(report: object) -> None:
    """pyshacl.validate gives a ValidationFailure (not a graph) when it could not run a shape."""
    from rdflib import Graph

    if not isinstance(report, Graph):
        raise ShapesError(
            f"the rules cannot be evaluated ({type(report).__name__}); a shape has a defect "
            "(check the shapes with meta-SHACL)"
        )
