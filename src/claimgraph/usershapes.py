"""The user's own rules (`claimgraph validate --shapes FILE`): checked, then added for one run.

`load(paths)` reads each Turtle file with a fixed base IRI (never the file's path; owl:imports
is refused, never followed) and refuses, with one error naming the file:

- a subject the bundled knowledge graph already describes (a user file adds rules; it cannot
  change, deactivate or extend a bundled rule, payer, code or source);
- a rule whose dct:identifier is a bundled rule's or an earlier user file's;
- what `shapecheck.check_shapes` refuses (recursion, broken sh:pattern, SPARQL that is not
  read-only and local: SERVICE, FROM, updates), and pyshacl's meta-SHACL defects;
- what the shapes over the shapes (shapes/meta/) refuse: id, name, message, severity, source,
  topic, target, sh:sparql. A dct:source is a cg:Source of the ontology or one the file declares
  (with a dct:title).

`installed(graph)` adds the checked rules to `kg.shapes_graph()` / `kg.knowledge_graph()` and
everything built from them (rulebook, payers, the fast engine) until it exits. Nothing derived
from user rules is written to the cache.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError
from .ingest.rdf_claims import INPUT_BASE
from .shapecheck import ShapesError, screen_user_rules

if TYPE_CHECKING:
    from rdflib import Graph


def _parse(path: Path) -> Graph:
    from .kg import new_graph, parse_turtle

    if "://" in str(path):
        raise InputError("a rules file is a local file, not a URL", path=str(path))
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(
            f"cannot read the rules file ({type(e).__name__})", path=str(path)
        ) from None
    g = new_graph()
    parse_turtle(g, path, data=data, base=INPUT_BASE)
    return g


def _with_prefixes(g: Graph, bundled: Graph) -> Graph:
    """`g` plus the bundled sh:declare prefix declarations (rules refer to them)."""
    from .kg import new_graph
    from .namespaces import SH

    out = new_graph()
    for t in g:
        out.add(t)
    for holder, decl in bundled.subject_objects(SH.declare):
        out.add((holder, SH.declare, decl))
        for p in (SH.prefix, SH.namespace):
            for o in bundled.objects(decl, p):
                out.add((decl, p, o))
    return out


def _meta_graph() -> Graph:
    from .kg import new_graph, parse_turtle
    from .resources import data_dir

    g = new_graph()
    for path in sorted((data_dir("shapes") / "meta").glob("*.ttl")):
        parse_turtle(g, path)
    return g


def _meta_shapes(g: Graph) -> None:
    """The shapes over the shapes, with the ontology (sources, topics) and `g` as data."""
    import pyshacl

    from .kg import new_graph, ontology_graph
    from .namespaces import SH
    from .privacy import quiet_libraries
    from .query import compact_iri

    data = new_graph()
    for t in ontology_graph():
        data.add(t)
    for t in g:
        data.add(t)
    quiet_libraries()
    conforms, report, _ = pyshacl.validate(
        data, shacl_graph=_meta_graph(), inference="none", advanced=False, allow_warnings=True
    )
    if conforms:
        return
    results = sorted(
        (str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultMessage) or ""))
        for r in report.subjects(SH.focusNode, None)
    )
    focus, message = results[0] if results else ("?", "")
    raise ShapesError(f"{compact_iri(focus)}: {message or 'does not conform to the rule shapes'}")


def check_file(g: Graph, earlier_ids: set[str]) -> set[str]:
    """Refuse what cannot be used (ShapesError without a path); the rule ids `g` defines."""
    from rdflib import OWL, URIRef

    from .engine.common import Rulebook
    from .kg import bundled_shapes_graph, knowledge_graph
    from .query import compact_iri
    from .shapecheck import check_patterns, check_recursion, check_sparql, meta_check

    if (None, OWL.imports, None) in g:
        raise ShapesError("owl:imports is not followed; put the rules in the file itself")
    bundled = knowledge_graph()
    ids = set(Rulebook(g).rules)
    known = set(Rulebook(bundled).rules)
    for rid in sorted(ids):
        if rid in known:
            raise ShapesError(f"rule id {rid} is a bundled rule's; give the rule a new id")
        if rid in earlier_ids:
            raise ShapesError(f"rule id {rid} is also defined in an earlier --shapes file")
    for s in sorted({s for s in g.subjects() if isinstance(s, URIRef)}, key=str):
        if (s, None, None) in bundled:
            raise ShapesError(
                f"{compact_iri(str(s))} is part of the bundled knowledge graph; a rules file "
                "adds new rules and sources and cannot change bundled ones"
            )
    full = _with_prefixes(g, bundled_shapes_graph())
    check_recursion(g)
    check_patterns(g)
    check_sparql(full)  # only g's SPARQL texts; the prefix declarations are data
    screen_user_rules(full)  # catastrophic regexes, cartesian patterns, data in messages
    meta_check(full)
    _meta_shapes(g)
    return ids


def load(paths: Sequence[str | Path]) -> Graph:
    """The rules of `paths`, checked, as one graph (errors name the file)."""
    from .kg import new_graph

    merged = new_graph()
    ids: set[str] = set()
    for p in paths:
        path = Path(p)
        g = _parse(path)
        try:
            ids |= check_file(g, ids)
        except ShapesError as e:
            raise ShapesError(e.message, path=str(path), position=e.position) from None
        for t in g:
            merged.add(t)
    return merged


def _clear_caches() -> None:
    from . import kg
    from .engine import common, fast

    for fn in (
        kg.shapes_graph,
        kg.knowledge_graph,
        kg.knowledge_store,
        common.rulebook,
        common.payer_categories,
        fast.load_engine,
    ):
        fn.cache_clear()


@contextlib.contextmanager
def installed(graph: Graph | None) -> Iterator[None]:
    """The user's rules in the knowledge graph while the block runs (None: nothing changes)."""
    from . import kg

    if graph is None:
        yield
        return
    previous = kg._user_shapes
    kg._user_shapes = graph
    _clear_caches()
    try:
        yield
    finally:
        kg._user_shapes = previous
        _clear_caches()


def payload() -> bytes | None:
    """The installed user rules as N-Triples, for worker processes (`install_payload`)."""
    from .kg import user_shapes

    g = user_shapes()
    return None if g is None else g.serialize(format="nt", encoding="utf-8")


def install_payload(data: bytes | None) -> None:
    """In a worker process: install the rules the parent checked (no-op if already there)."""
    from . import kg

    if data is None or kg._user_shapes is not None:
        return
    g = kg.new_graph()
    g.parse(data=data, format="nt")
    kg._user_shapes = g
    _clear_caches()
