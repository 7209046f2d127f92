"""What the readers take from the graph: payers and how claims name them, input formats and what
they carry, X12 transaction types (ontology/payers.ttl and ontology/formats.ttl).

Read once per process from those two files (about 40 ms), not from the whole knowledge graph, so
reading claims does not load the rules. Plain Python values; nothing here is a constant of the
code: a new payer name pattern, filing indicator or transaction type is a line of Turtle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.term import Node

from ..namespaces import CG, SKOS


@dataclass(frozen=True)
class FilingIndicator:
    code: str  # SBR09, e.g. "CI"
    payer: str  # payer id it indicates
    name_refines: bool  # a payer name may narrow it to a carrier of the same category


@dataclass(frozen=True)
class TransactionType:
    set_id: str  # ST01, e.g. "837"
    guide: str  # ST03/GS08 prefix ("" when the set id alone decides)
    label: str  # "an 837I institutional claim"
    readable: bool  # the one claimgraph reads (837P 005010X222)


@dataclass(frozen=True)
class PayerFacts:
    payers: frozenset[str]  # every payer id (skos:notation)
    family: dict[str, str]  # payer id -> its broadest category (aetna -> commercial)
    indicators: dict[str, FilingIndicator]  # SBR09 code -> what it indicates
    patterns: tuple[tuple[str, str], ...]  # (normalised words, payer id), longest first


@dataclass(frozen=True)
class FormatFacts:
    carries: dict[str, frozenset[str]]  # input format name -> document types it can carry
    transactions: tuple[TransactionType, ...]  # longest guide prefix first


_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise_name(name: str) -> str:
    """'Workers\u2019 Comp.' -> 'workers comp': lower case, apostrophes dropped, the rest of the
    punctuation a space, spaces collapsed."""
    low = name.lower().replace("'", "").replace("\u2019", "")
    return " ".join(_NON_WORD.sub(" ", low).split())


def _graph(*names: str) -> Graph:
    from ..resources import data_dir

    g = Graph()
    for name in names:
        g.parse(data_dir("ontology") / name, format="turtle")
    return g


def _notation(g: Graph, node: Node) -> str:
    value = g.value(node, SKOS.notation)
    return str(value) if value is not None else ""


@cache
def payer_facts() -> PayerFacts:
    g = _graph("payers.ttl")
    ids: dict[URIRef, str] = {}
    for p in g.subjects(RDF.type, CG.Payer):
        if isinstance(p, URIRef):
            ids[p] = _notation(g, p)
    family: dict[str, str] = {}
    for p, pid in ids.items():
        top: Node = p
        seen = {top}
        while (up := g.value(top, CG.inCategory)) is not None and up not in seen:
            seen.add(up)
            top = up
        family[pid] = ids.get(top, pid) if isinstance(top, URIRef) else pid
    indicators = {}
    for fi in g.subjects(RDF.type, CG.ClaimFilingIndicator):
        code = _notation(g, fi)
        payer = g.value(fi, CG.indicatesPayer)
        refines = g.value(fi, CG.nameRefines)
        if code and isinstance(payer, URIRef) and payer in ids:
            indicators[code] = FilingIndicator(
                code, ids[payer], isinstance(refines, Literal) and bool(refines.toPython())
            )
    patterns = sorted(
        {
            (normalise_name(str(pattern)), ids[p])
            for p in ids
            for pattern in g.objects(p, CG.namePattern)
            if normalise_name(str(pattern))
        },
        key=lambda t: (-len(t[0]), t[0], t[1]),
    )
    return PayerFacts(frozenset(ids.values()), family, indicators, tuple(patterns))


@cache
def format_facts() -> FormatFacts:
    g = _graph("formats.ttl")
    carries = {}
    for f in g.subjects(RDF.type, CG.InputFormat):
        docs = frozenset(_notation_of_doctype(d) for d in g.objects(f, CG.carriesDocument))
        carries[_notation(g, f)] = docs
    types = []
    for t in g.subjects(RDF.type, CG.X12TransactionType):
        readable = g.value(t, CG.readByClaimgraph)
        types.append(
            TransactionType(
                set_id=str(g.value(t, CG.transactionSetId) or ""),
                guide=str(g.value(t, CG.guidePrefix) or ""),
                label=str(g.value(t, RDFS.label) or _notation(g, t)),
                readable=isinstance(readable, Literal) and bool(readable.toPython()),
            )
        )
    types.sort(key=lambda t: (-len(t.guide), t.set_id, t.guide))
    return FormatFacts(carries, tuple(types))


def _notation_of_doctype(node: object) -> str:
    """doctype IRIs end with their notation (.../doctype/time-record)."""
    return str(node).rstrip("/").rsplit("/", 1)[-1]


def transaction_type(set_id: str, guide: str) -> TransactionType | None:
    """The transaction type of an ST01 and an ST03/GS08 (None: unknown)."""
    for t in format_facts().transactions:
        if t.set_id == set_id and guide.startswith(t.guide):
            return t
    return None


def carried_documents(fmt: str | None) -> frozenset[str] | None:
    """The document types a format can carry; None for a format the graph does not describe."""
    return format_facts().carries.get(fmt or "")
