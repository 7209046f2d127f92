"""Exports for other tools: the code relationships, the rule catalogue and the whole graph.

- relations: the `cg:CodeRelationship` nodes (subject code, relation, object code, reason,
  sources) as a CSV edge list, JSON, GraphML (Gephi, Cytoscape, yEd), JSON-LD, Turtle, N-Triples;
- graph: the bundled knowledge graph (ontology, facts, rules) as Turtle, N-Triples or JSON-LD;
- rules: the rule catalogue (id, severity, scope, dates, message, sources) as CSV or JSON.

Every output is deterministic (sorted; blank nodes relabelled from their content), so diffs of
two exports show what changed in the graph and nothing else. JSON-LD carries its context inline.
Writers stream into a text stream; the CLI gives them `fileio.atomic_writer`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import IO, TYPE_CHECKING, Any

from .errors import ClaimgraphError

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

    from .knowledge import Knowledge


class Kind(StrEnum):
    relations = "relations"
    graph = "graph"
    rules = "rules"


class Format(StrEnum):
    csv = "csv"
    json = "json"
    graphml = "graphml"
    jsonld = "jsonld"
    turtle = "turtle"
    nt = "nt"


FORMATS: dict[Kind, tuple[Format, ...]] = {  # the first one is the default
    Kind.relations: (
        Format.csv,
        Format.json,
        Format.graphml,
        Format.jsonld,
        Format.turtle,
        Format.nt,
    ),
    Kind.graph: (Format.turtle, Format.nt, Format.jsonld),
    Kind.rules: (Format.csv, Format.json),
}
SUFFIXES: dict[str, Format] = {
    ".csv": Format.csv,
    ".json": Format.json,
    ".graphml": Format.graphml,
    ".jsonld": Format.jsonld,
    ".ttl": Format.turtle,
    ".nt": Format.nt,
}
RELATION_COLUMNS = ("source_code", "relation", "target_code", "reason", "source", "source_title")
RULE_COLUMNS = (
    "id",
    "name",
    "severity",
    "topic",
    "codes",
    "payers",
    "excluded_payers",
    "effective_from",
    "effective_until",
    "message",
    "source",
    "source_title",
)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def choose_format(kind: Kind, fmt: Format | None, output: str = "-") -> Format:
    """`fmt`, else the one the output file's suffix names, else the kind's default."""
    allowed = FORMATS[kind]
    if fmt is None:
        fmt = SUFFIXES.get(PurePath(output).suffix.lower()) if output != "-" else None
        if fmt not in allowed:
            fmt = allowed[0]
    if fmt not in allowed:
        names = ", ".join(f.value for f in allowed)
        raise ClaimgraphError(
            f"'{kind.value}' cannot be exported as {fmt.value}; use one of: {names}"
        )
    return fmt


# --------------------------------------------------------------------------- reading the graph


def _compact(term: Node) -> str:
    """`hcpcs:E0745` for our IRIs, the IRI itself otherwise."""
    from .namespaces import PREFIXES

    text = str(term)
    best = max(
        ((p, ns) for p, ns in PREFIXES.items() if text.startswith(ns) and len(text) > len(ns)),
        key=lambda item: len(item[1]),
        default=None,
    )
    return f"{best[0]}:{text[len(best[1]) :]}" if best else text


def _local(term: Node) -> str:
    text = str(term)
    return text[max(text.rfind("/"), text.rfind("#")) + 1 :]


def _text(g: Graph, s: Node, p: Node) -> str:
    """One literal value (English preferred, then the smallest), or ''."""
    values = sorted(
        g.objects(s, p), key=lambda v: (getattr(v, "language", None) not in (None, "en"), str(v))
    )
    return str(values[0]) if values else ""


def _sorted_terms(g: Graph, s: Node, p: Node) -> list[Node]:
    return sorted(g.objects(s, p), key=str)


@dataclass(frozen=True)
class CodeNode:
    iri: str
    id: str  # compact IRI, e.g. hcpcs:E0745 (the GraphML node id)
    code: str  # skos:notation, e.g. E0745
    label: str
    scheme: str  # notation of its skos:inScheme, e.g. hcpcs


@dataclass(frozen=True)
class Relationship:
    iri: str
    source: CodeNode
    relation: str  # rdfs:label of the relation property, e.g. "confusable with"
    relation_iri: str
    target: CodeNode
    reason: str
    sources: tuple[str, ...]  # source ids, e.g. ("article-000-e2120",)
    source_titles: tuple[str, ...]


def _code_node(g: Graph, code: Node) -> CodeNode:
    from .namespaces import SKOS

    scheme = next(iter(_sorted_terms(g, code, SKOS.inScheme)), None)
    return CodeNode(
        iri=str(code),
        id=re.sub(r"[^\w.:-]", "_", _compact(code)),  # an XML NMTOKEN, as GraphML wants
        code=_text(g, code, SKOS.notation) or _local(code),
        label=_text(g, code, _uri(RDFS_LABEL)),
        scheme=(_text(g, scheme, SKOS.notation) or _local(scheme)) if scheme is not None else "",
    )


def _uri(text: str) -> Node:
    from rdflib import URIRef

    return URIRef(text)


def _source_id(term: Node) -> str:
    from .namespaces import SOURCE

    text = str(term)
    return text[len(str(SOURCE)) :] if text.startswith(str(SOURCE)) else text


def relationships(g: Graph) -> list[Relationship]:
    """Every cg:CodeRelationship with a subject, a relation and an object, sorted."""
    from .namespaces import CG, DCT

    out = []
    for node in set(g.subjects(_uri(RDF_TYPE), CG.CodeRelationship)):
        subject = next(iter(_sorted_terms(g, node, CG.subjectCode)), None)
        relation = next(iter(_sorted_terms(g, node, CG.relation)), None)
        target = next(iter(_sorted_terms(g, node, CG.objectCode)), None)
        if subject is None or relation is None or target is None:
            continue  # incomplete statements are the QC queries' business, not an export's
        sources = _sorted_terms(g, node, DCT.source)
        out.append(
            Relationship(
                iri=str(node),
                source=_code_node(g, subject),
                relation=_text(g, relation, _uri(RDFS_LABEL)) or _local(relation),
                relation_iri=str(relation),
                target=_code_node(g, target),
                reason=_text(g, node, CG.reason),
                sources=tuple(_source_id(s) for s in sources),
                source_titles=tuple(t for s in sources if (t := _text(g, s, DCT.title))),
            )
        )
    return sorted(out, key=lambda r: (r.source.code, r.relation, r.target.code, r.iri))


def relation_rows(g: Graph) -> Iterator[tuple[str, ...]]:
    """CSV edge list rows, in RELATION_COLUMNS order."""
    for r in relationships(g):
        yield (
            r.source.code,
            r.relation,
            r.target.code,
            r.reason,
            " ".join(r.sources),
            "; ".join(r.source_titles),
        )


def rule_records(g: Graph) -> list[dict[str, Any]]:
    """The rule catalogue: one record per shape typed cg:Rule, sorted by id (lists unjoined)."""
    from .namespaces import CG, DCT, SH

    out = []
    for rule in set(g.subjects(_uri(RDF_TYPE), CG.Rule)):
        sources = _sorted_terms(g, rule, DCT.source)
        severity = next(iter(_sorted_terms(g, rule, SH.severity)), None)
        out.append(
            {
                "id": _text(g, rule, DCT.identifier) or _local(rule),
                "name": _text(g, rule, SH.name),
                "severity": _local(severity).lower() if severity is not None else "",
                "topic": " ".join(_local(t) for t in _sorted_terms(g, rule, CG.topic)),
                "codes": sorted(_code_node(g, c).code for c in g.objects(rule, CG.appliesToCode)),
                "payers": sorted(_local(p) for p in g.objects(rule, CG.appliesToPayer)),
                "excluded_payers": sorted(_local(p) for p in g.objects(rule, CG.excludesPayer)),
                "effective_from": _text(g, rule, CG.effectiveFrom),
                "effective_until": _text(g, rule, CG.effectiveUntil),
                "message": _text(g, rule, SH.message),
                "source": [_source_id(s) for s in sources],
                "source_title": [t for s in sources if (t := _text(g, s, DCT.title))],
            }
        )
    return sorted(out, key=lambda r: r["id"])


def rule_rows(g: Graph) -> Iterator[tuple[str, ...]]:
    for rec in rule_records(g):
        yield tuple(
            ("; " if col == "source_title" else " ").join(v) if isinstance(v, list) else str(v)
            for col, v in ((c, rec[c]) for c in RULE_COLUMNS)
        )


def relations_graph(g: Graph) -> Graph:
    """The relationship statements, their plain links, and what identifies each code."""
    from .kg import new_graph
    from .namespaces import CG, DCT, SKOS

    out = new_graph()
    rdf_type, label = _uri(RDF_TYPE), _uri(RDFS_LABEL)
    for node in set(g.subjects(rdf_type, CG.CodeRelationship)):
        for p, o in g.predicate_objects(node):
            out.add((node, p, o))
            if p == DCT.source:
                for title in g.objects(o, DCT.title):
                    out.add((o, DCT.title, title))
        for s in g.objects(node, CG.subjectCode):
            for rel in g.objects(node, CG.relation):
                for o in g.objects(node, CG.objectCode):
                    if (s, rel, o) in g:
                        out.add((s, rel, o))
    codes = set(out.objects(None, CG.subjectCode)) | set(out.objects(None, CG.objectCode))
    for code in codes:
        for p in (rdf_type, SKOS.notation, label, SKOS.inScheme):
            for o in g.objects(code, p):
                out.add((code, p, o))
    return out


# --------------------------------------------------------------------------- writers


def write_csv(
    columns: Iterable[str], rows: Iterable[tuple[str, ...]], out: IO[str], bom: bool = False
) -> int:
    """CSV through claimgraph's one formula-safe writer (claimgraph.tabular)."""
    from .tabular import write_delimited

    return write_delimited(out, list(columns), rows, bom=bom)


def write_json(data: Any, out: IO[str]) -> None:
    json.dump(data, out, indent=2, ensure_ascii=False, sort_keys=False)
    out.write("\n")


def relations_json(rels: list[Relationship]) -> dict[str, Any]:
    codes = {c.id: c for r in rels for c in (r.source, r.target)}
    return {
        "codes": [
            {"id": c.id, "code": c.code, "label": c.label, "scheme": c.scheme, "iri": c.iri}
            for c in sorted(codes.values(), key=lambda c: c.id)
        ],
        "relationships": [
            {
                "source_code": r.source.code,
                "source": r.source.id,
                "relation": r.relation,
                "relation_iri": r.relation_iri,
                "target_code": r.target.code,
                "target": r.target.id,
                "reason": r.reason,
                "sources": list(r.sources),
                "source_titles": list(r.source_titles),
                "iri": r.iri,
            }
            for r in rels
        ],
    }


GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
YFILES_NS = "http://www.yworks.com/xml/graphml"
# `label` is what viewers show: the code on a node, the relation on an edge.
_NODE_KEYS = ("label", "code", "descriptor", "scheme", "iri")
_EDGE_KEYS = ("label", "relation", "reason", "source", "source_title", "iri")


def write_graphml(rels: list[Relationship], out: IO[str], yed: bool = False) -> int:
    """GraphML of the codes (nodes: label = the code, code, descriptor, scheme, iri) and the
    relationships (edges: label = the relation, relation, reason, source, source_title, iri):
    plain attributes Gephi, Cytoscape and networkx read. `yed`: also yFiles node and edge
    graphics, so yEd shows the labels without mapping attributes."""
    import xml.etree.ElementTree as ET

    ET.register_namespace("", GRAPHML_NS)
    ET.register_namespace("y", YFILES_NS)
    q, y = f"{{{GRAPHML_NS}}}", f"{{{YFILES_NS}}}"
    root = ET.Element(q + "graphml")
    for owner, names in (("node", _NODE_KEYS), ("edge", _EDGE_KEYS)):
        for name in names:
            ET.SubElement(
                root,
                q + "key",
                {
                    "id": f"{owner[0]}_{name}",
                    "for": owner,
                    "attr.name": name,
                    "attr.type": "string",
                },
            )
    if yed:
        ET.SubElement(root, q + "key", {"id": "n_graphics", "for": "node",
                                         "yfiles.type": "nodegraphics"})  # fmt: skip
        ET.SubElement(root, q + "key", {"id": "e_graphics", "for": "edge",
                                         "yfiles.type": "edgegraphics"})  # fmt: skip
    graph = ET.SubElement(
        root, q + "graph", {"id": "claimgraph-relations", "edgedefault": "directed"}
    )

    def data(parent: ET.Element, key: str, value: str) -> None:
        ET.SubElement(parent, q + "data", {"key": key}).text = value

    codes = {c.id: c for r in rels for c in (r.source, r.target)}
    for c in sorted(codes.values(), key=lambda c: c.id):
        node = ET.SubElement(graph, q + "node", {"id": c.id})
        for name, value in zip(_NODE_KEYS, (c.code, c.code, c.label, c.scheme, c.iri), strict=True):
            data(node, f"n_{name}", value)
        if yed:
            shape = ET.SubElement(
                ET.SubElement(node, q + "data", {"key": "n_graphics"}), y + "ShapeNode"
            )
            ET.SubElement(shape, y + "Geometry", {"height": "30.0", "width": "80.0"})
            ET.SubElement(shape, y + "NodeLabel").text = c.code
            ET.SubElement(shape, y + "Shape", {"type": "roundrectangle"})
    for i, r in enumerate(rels, start=1):
        edge = ET.SubElement(
            graph, q + "edge", {"id": f"e{i}", "source": r.source.id, "target": r.target.id}
        )
        values = (r.relation, r.relation, r.reason, " ".join(r.sources),
                  "; ".join(r.source_titles), r.iri)  # fmt: skip
        for name, value in zip(_EDGE_KEYS, values, strict=True):
            data(edge, f"e_{name}", value)
        if yed:
            line = ET.SubElement(
                ET.SubElement(edge, q + "data", {"key": "e_graphics"}), y + "PolyLineEdge"
            )
            ET.SubElement(line, y + "Arrows", {"source": "none", "target": "standard"})
            ET.SubElement(line, y + "EdgeLabel").text = r.relation
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
    return len(rels)


def canonical(g: Graph) -> Graph:
    """A copy whose blank nodes are named from their content (same graph, same names)."""
    from rdflib.compare import to_canonical_graph

    from .kg import new_graph

    out = new_graph()
    for t in to_canonical_graph(g):
        out.add(t)
    return out


def write_rdf(g: Graph, fmt: Format, out: IO[str]) -> int:
    """Turtle, N-Triples (sorted lines) or JSON-LD (inline context, sorted) of `g`."""
    from .namespaces import PREFIXES

    c = canonical(g)
    if fmt is Format.nt:
        lines = sorted(set(c.serialize(format="nt").splitlines()) - {""})
        for line in lines:
            out.write(line + "\n")
    elif fmt is Format.turtle:
        out.write(c.serialize(format="turtle"))
    elif fmt is Format.jsonld:
        # expanded node objects under an inline context (rdflib's compaction drops one of the
        # values 0 and 1 of a property that has both)
        nodes = json.loads(c.serialize(format="json-ld"))
        doc = {"@context": dict(PREFIXES), "@graph": nodes}
        write_json(_sorted_jsonld(doc), out)
    else:
        raise ClaimgraphError(f"{fmt.value} is not an RDF format")
    return len(c)


def _sorted_jsonld(doc: Any) -> Any:
    """Sort node objects by @id and value arrays by content (never the members of an @list)."""

    def walk(value: Any, in_list: bool = False) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k == "@list") for k, v in sorted(value.items())}
        if isinstance(value, list):
            items = [walk(v) for v in value]
            if in_list:
                return items
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
        return value

    return walk(doc)


def write_export(
    kind: Kind,
    fmt: Format,
    out: IO[str],
    graph: Graph | None = None,
    *,
    knowledge: Knowledge | None = None,
    bom: bool = False,
    yed: bool = False,
) -> int:
    """Write one export of `graph` (default: `knowledge.graph`, by default the bundled one) to
    `out`; returns how many rows, relationships or triples it holds. `bom`: CSV starts with a
    byte-order mark; `yed`: GraphML carries yFiles labels."""
    if graph is None:
        from .knowledge import Knowledge

        graph = (knowledge or Knowledge.bundled()).graph
    fmt = choose_format(kind, fmt)
    if kind is Kind.graph:
        return write_rdf(graph, fmt, out)
    if kind is Kind.rules:
        if fmt is Format.json:
            records = rule_records(graph)
            write_json(records, out)
            return len(records)
        return write_csv(RULE_COLUMNS, rule_rows(graph), out, bom=bom)
    if fmt is Format.csv:
        return write_csv(RELATION_COLUMNS, relation_rows(graph), out, bom=bom)
    if fmt is Format.json:
        rels = relationships(graph)
        write_json(relations_json(rels), out)
        return len(rels)
    if fmt is Format.graphml:
        return write_graphml(relationships(graph), out, yed=yed)
    return write_rdf(relations_graph(graph), fmt, out)
