"""The ICD index as RDF facts about the diagnoses a batch of claims uses (for CODE-02).

For a diagnosis IRI `code/icd10cm/M54.5` (or `code/icd9cm/250.0`) found in the index:

    dx a cg:ICD10CMCode (cg:ICD9CMCode) ; skos:notation "M54.5" ; cg:officialTitle "Low back pain" ;
       cg:billableSpan span:2015-10-01_2021-09-30 ; cg:headerSpan span:2021-10-01_open ;
       cg:headerChildren "2021-10-01/9999-12-31 M54.50, M54.51 or M54.59" .
    span:2015-10-01_2021-09-30 a cg:ValiditySpan ; cg:validFrom "2015-10-01"^^xsd:date ;
       cg:validUntil "2021-09-30"^^xsd:date ; cg:endedOn "2021-10-01"^^xsd:date .

Spans are shared nodes named by their dates (a few hundred at most: they start and end at
releases), so the facts about a code all have the code as subject except these few shared
ones; a span without cg:validFrom starts with the first release on record (ICD-9-CM v23,
FY2006 or earlier), one without cg:validUntil lasts through the latest. `cg:headerChildren`
names the billable codes under a header for each part of its header span in which they stay
the same (the rule's message reads the part that covers the service date).
A diagnosis in neither system's index gets only its notation (when it looks like a code).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from rdflib import RDF, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from . import icd
from .namespaces import BASE, CG, ICD9CM, ICD10CM, SKOS

Triple = tuple[Node, Node, Node]
SPAN = BASE + "span/"
_CLASS = {"icd10cm": CG.ICD10CMCode, "icd9cm": CG.ICD9CMCode}
_NAMESPACE = {"icd10cm": str(ICD10CM), "icd9cm": str(ICD9CM)}
_NOTATION = re.compile(r"^[A-Z0-9][A-Z0-9.]{0,7}$")
_OPEN_START, _OPEN_END = "0001-01-01", "9999-12-31"


def _date(day: dt.date) -> Literal:
    return Literal(day.isoformat(), datatype=XSD.date)


def span_iri(span: icd.Span) -> URIRef:
    start = span.start.isoformat() if span.start else "open"
    end = span.end.isoformat() if span.end else "open"
    return URIRef(f"{SPAN}{start}_{end}")


def _span_facts(span: icd.Span) -> list[Triple]:
    node = span_iri(span)
    out: list[Triple] = [(node, RDF.type, CG.ValiditySpan)]
    if span.start:
        out.append((node, CG.validFrom, _date(span.start)))
    if span.end:
        out.append((node, CG.validUntil, _date(span.end)))
        out.append((node, CG.endedOn, _date(span.end + dt.timedelta(days=1))))
    return out


def _header_parts(entry: icd.Code, span: icd.Span) -> list[tuple[str, str, str]]:
    """(from, until, children text) for each part of a header span with the same children."""
    days = [r.effective for r in icd.releases(entry.system) if span.covers(r.effective)]
    if span.start is None or not days or days[0] != span.start:
        days.insert(0, span.start or icd.releases(entry.system)[0].effective)
    parts: list[tuple[str, str, str]] = []
    for i, day in enumerate(days):
        text = icd.children_phrase(icd.children(entry.code, day, entry.system))
        if parts and parts[-1][2] == text:
            continue
        start = _OPEN_START if i == 0 and span.start is None else day.isoformat()
        parts.append((start, "", text))
    ends = [p[0] for p in parts[1:]]
    out = []
    for (start, _u, text), nxt in zip(parts, [*ends, None], strict=True):
        if nxt is None:
            until = span.end.isoformat() if span.end else _OPEN_END
        else:
            until = (dt.date.fromisoformat(nxt) - dt.timedelta(days=1)).isoformat()
        out.append((start, until, text))
    return out


@lru_cache(maxsize=16384)
def diagnosis_facts(iri: str) -> tuple[Triple, ...]:
    """The facts about one diagnosis IRI (empty outside the two ICD namespaces)."""
    system = next((s for s, ns in _NAMESPACE.items() if iri.startswith(ns)), None)
    if system is None:
        return ()
    from urllib.parse import unquote

    notation = unquote(iri[len(_NAMESPACE[system]) :])
    dx = URIRef(iri)
    if not _NOTATION.match(notation) or icd.normalize(notation, system) != notation:
        return ()
    out: list[Triple] = [(dx, SKOS.notation, Literal(notation))]
    entry = icd.find(notation, system)
    if entry is None:
        return tuple(out)
    out.append((dx, RDF.type, _CLASS[system]))
    out.append((dx, CG.officialTitle, Literal(entry.title)))  # groups by title (cg:titleWord)
    for span in entry.spans:
        prop = CG.billableSpan if span.status == icd.BILLABLE else CG.headerSpan
        out.append((dx, prop, span_iri(span)))
        out.extend(_span_facts(span))
        if span.status == icd.HEADER:
            for start, until, text in _header_parts(entry, span):
                out.append((dx, CG.headerChildren, Literal(f"{start}/{until} {text}")))
    return tuple(out)
