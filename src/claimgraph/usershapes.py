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

`Knowledge.with_rules(paths)` calls `load` and gives a new Knowledge value with the checked
rules added (its rulebook, payers and compiled checks include them); the compiled checks are
cached under the rules files' hash, like the bundled ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError
from .ingest.rdf_claims import INPUT_BASE
from .shapecheck import ShapesError, screen_user_rules

if TYPE_CHECKING:
    from rdflib import Graph

    from .knowledge import Knowledge


def read(path: Path) -> tuple[Graph, bytes]:
    """The rules file as a graph (fixed base IRI) and its bytes; InputError naming the file."""
    from .fileio import MAX_RULES_BYTES, read_input
    from .kg import new_graph, parse_turtle

    if "://" in str(path):
        raise InputError("a rules file is a local file, not a URL", path=str(path))
    data = read_input(path, what="rules file", max_bytes=MAX_RULES_BYTES)
    g = new_graph()
    parse_turtle(g, path, data=data, base=INPUT_BASE)
    _check_iris(g, path)
    return g, data


def _check_iris(g: Graph, path: Path) -> None:
    """Refuse an IRI that is not one (RFC 3987, as the fast engine's strict N-Triples load
    reads it: a `\\u0020` escape that became a space, a `{`, a `%` not followed by two hex
    digits): it would end the run as an internal error when the rules are loaded."""
    from pyoxigraph import NamedNode
    from rdflib import URIRef

    for iri in {t for triple in g for t in triple if isinstance(t, URIRef)}:
        try:
            NamedNode(iri)
        except ValueError:
            raise InputError(
                'an IRI is not valid (a space, one of <>"{}|^`\\ or a % without two hex '
                "digits: percent-encode it)",
                path=str(path),
            ) from None


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


def meta_graph() -> Graph:
    from .kg import new_graph, parse_turtle
    from .resources import data_dir

    g = new_graph()
    for path in sorted((data_dir("shapes") / "meta").glob("*.ttl")):
        parse_turtle(g, path)
    return g


def meta_results(g: Graph, ontology: Graph) -> list[tuple[str, str]]:
    """What the shapes over the shapes say about `g` (with `ontology` for sources and topics):
    (focus node, message) pairs, sorted; [] when it conforms."""
    import pyshacl

    from .kg import new_graph
    from .namespaces import SH
    from .privacy import quiet_libraries

    data = new_graph()
    for t in ontology:
        data.add(t)
    for t in g:
        data.add(t)
    quiet_libraries()
    conforms, report, _ = pyshacl.validate(
        data, shacl_graph=meta_graph(), inference="none", advanced=False, allow_warnings=True
    )
    if conforms:
        return []
    return sorted(
        (str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultMessage) or ""))
        for r in report.subjects(SH.focusNode, None)
    )


def _meta_shapes(g: Graph, ontology: Graph) -> None:
    from .query import compact_iri

    results = meta_results(g, ontology)
    if not results:
        return
    focus, message = results[0]
    raise ShapesError(f"{compact_iri(focus)}: {message or 'does not conform to the rule shapes'}")


def check_file(
    g: Graph, earlier_ids: set[str], base: Knowledge, *, bundled: bool = False, meta: bool = True
) -> set[str]:
    """Refuse what cannot be used with the rules of `base` (ShapesError without a path); the
    rule ids `g` defines. `bundled`: `g` is one of the installed shapes files (it may describe
    ontology terms); `meta`: also the shapes over the shapes (first result only)."""
    from rdflib import OWL, RDF, URIRef

    from .engine.common import Rulebook
    from .query import compact_iri
    from .shapecheck import check_patterns, check_recursion, check_sparql, meta_check

    if (None, OWL.imports, None) in g:
        raise ShapesError("owl:imports is not followed; put the rules in the file itself")
    known_graph = base.graph
    ids = set(Rulebook(g).rules)
    known = set(base.rulebook.rules)
    for rid in sorted(ids):
        if rid in known:
            raise ShapesError(f"rule id {rid} is a bundled rule's; give the rule a new id")
        if rid in earlier_ids:
            raise ShapesError(f"rule id {rid} is also defined in an earlier --shapes file")
    for s in sorted({s for s in g.subjects() if isinstance(s, URIRef)}, key=str):
        if (s, None, None) not in known_graph:
            continue
        # a bundled file may describe ontology terms, and its rules may be annotated by the
        # other bundled files (shapes/fixes.ttl: cg:fix) without being defined there
        if bundled and ((s, None, None) in base.ontology or (s, RDF.type, None) not in known_graph):
            continue
        raise ShapesError(
            f"{compact_iri(str(s))} is part of the bundled knowledge graph; a rules file "
            "adds new rules and sources and cannot change bundled ones"
        )
    full = _with_prefixes(g, base.shapes)
    check_recursion(g)
    check_patterns(g)
    check_sparql(full)  # only g's SPARQL texts; the prefix declarations are data
    screen_user_rules(full)  # catastrophic regexes, cartesian patterns, data in messages
    meta_check(full)
    if meta:
        _meta_shapes(g, base.ontology)
    return ids


def load(paths: Sequence[Path], base: Knowledge) -> tuple[Graph, str]:
    """The rules of `paths`, each checked against `base` and the files before it, as one
    graph, and a hash of the files' bytes (errors name the file)."""
    from .kg import new_graph

    merged = new_graph()
    ids: set[str] = set()
    h = hashlib.sha256()
    for path in paths:
        g, data = read(path)
        h.update(len(data).to_bytes(8, "big") + data)
        try:
            ids |= check_file(g, ids, base)
        except ShapesError as e:
            raise ShapesError(e.message, path=str(path), position=e.position) from None
        for t in g:
            merged.add(t)
    return merged, h.hexdigest()
